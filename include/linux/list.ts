/*
 * include/linux/list.ts - the circular doubly linked list, embedded.
 *
 * Mirrors include/linux/list.h for structs that embed their struct
 * list_head as two fields, list_next and list_prev (list.next/list.prev),
 * so a list step reads the struct itself and container_of() is the
 * identity. A head is a struct of the same type used only for its links.
 * Only the operations tskernel's users need.
 */

/** A struct embedding a list_head. */
export interface ListNode<T extends ListNode<T>> {
  list_next: T;
  list_prev: T;
}

/** INIT_LIST_HEAD(): make head an empty list. */
export function INIT_LIST_HEAD<T extends ListNode<T>>(head: T): void {
  head.list_next = head;
  head.list_prev = head;
}

export function list_empty<T extends ListNode<T>>(head: T): boolean {
  return head.list_next === head;
}

/* Insert nw between two known consecutive entries. */
function __list_add<T extends ListNode<T>>(nw: T, prev: T, next: T): void {
  next.list_prev = nw;
  nw.list_next = next;
  nw.list_prev = prev;
  prev.list_next = nw;
}

/** list_add(new, head): insert new right after head. */
export function list_add<T extends ListNode<T>>(nw: T, head: T): void {
  __list_add(nw, head, head.list_next);
}

/** list_del_init(): unlink entry and leave it an empty list of its own. */
export function list_del_init<T extends ListNode<T>>(entry: T): void {
  const prev = entry.list_prev;
  const next = entry.list_next;
  next.list_prev = prev;
  prev.list_next = next;
  INIT_LIST_HEAD(entry);
}
