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

/** list_add(new, head): insert new right after head. */
export function list_add<T extends ListNode<T>>(nw: T, head: T): void {
  const next = head.list_next;
  next.list_prev = nw;
  nw.list_next = next;
  nw.list_prev = head;
  head.list_next = nw;
}

/** list_del_init(): unlink entry and leave it pointing at itself. */
export function list_del_init<T extends ListNode<T>>(entry: T): void {
  const prev = entry.list_prev;
  const next = entry.list_next;
  prev.list_next = next;
  next.list_prev = prev;
  entry.list_next = entry;
  entry.list_prev = entry;
}

/** INIT_LIST_HEAD(): make head an empty list. */
export function INIT_LIST_HEAD<T extends ListNode<T>>(head: T): void {
  head.list_next = head;
  head.list_prev = head;
}

export function list_empty<T extends ListNode<T>>(head: T): boolean {
  return head.list_next === head;
}
