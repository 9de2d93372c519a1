/**
 * Thrown by a job's processor when the job cannot run yet but nothing went wrong with it (another
 * run of it holds the work, the database is away): the worker runs it again after `delayMs`
 * without spending one of its attempts, so that it never fails for good for such a reason.
 */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}
