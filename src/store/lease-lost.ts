/** A lease (a delivery job's, a sync run's) was taken over after it expired: the holder must not commit. */
export class LeaseLostError extends Error {
  constructor(what = 'the lease was lost to another process') {
    super(`lease lost: ${what}`);
    this.name = 'LeaseLostError';
  }
}
