/** One field an edit changed, as the audit trail records it: contact data only as "changed", never its values. */
export type FieldChange =
  { field: string; from: unknown; to: unknown } | { field: string; changed: true };

/**
 * The fields whose shown value differs between two views of a resource (before and after an
 * edit), for the audit event. `redacted` fields (contact data) are named without their values.
 */
export function fieldChanges(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  redacted: ReadonlySet<string> = new Set(),
): FieldChange[] {
  return Object.keys(after)
    .filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
    .map((field) =>
      redacted.has(field)
        ? { field, changed: true as const }
        : { field, from: before[field] ?? null, to: after[field] ?? null },
    );
}

/** The body's members that differ from the stored values (a merge patch: absent members are kept, `null` clears). */
export function changedMembers<T extends object>(
  stored: T,
  next: T,
  same: (field: keyof T, a: unknown, b: unknown) => boolean = (_f, a, b) => a === b,
): Partial<T> {
  const changes: Partial<T> = {};
  for (const field of Object.keys(next) as (keyof T)[]) {
    if (!same(field, stored[field], next[field])) changes[field] = next[field];
  }
  return changes;
}
