/** KQL queries of a workspace: the application service of the Logs query API. */
import { NotFoundError } from '../core/errors.ts';
import { runKql, type RunKqlOptions } from './query.ts';

export class QueryService {
  constructor(
    private readonly runner: Parameters<typeof runKql>[0],
    private readonly workspaceExists: (workspace: string) => Promise<boolean>,
  ) {}

  async run(workspace: string, kql: string, options: RunKqlOptions) {
    if (!(await this.workspaceExists(workspace))) throw new NotFoundError(`workspace '${workspace}' does not exist`);
    return runKql(this.runner, workspace, kql, options);
  }
}
