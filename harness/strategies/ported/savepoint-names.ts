/** Savepoint names as SQLAlchemy's `begin_nested()` issues them: `sa_savepoint_1`, `_2`, ... per connection. */
export class SavepointNames {
  private n = 0;
  next(): string {
    return `sa_savepoint_${++this.n}`;
  }
}
