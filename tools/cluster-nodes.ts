/**
 * CLUSTER NODES, parsed. One line per node:
 * `<id> <ip:port@cport[,hostname]> <flags> <master-id|-> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...`
 * where a slot is `n`, `from-to`, or `[n->-id]` / `[n-<-id]` for a migration in progress (not owned: skipped).
 */
export interface ClusterNodeLine {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  readonly masterId?: string;
  readonly myself: boolean;
  /** Flagged `fail` or `fail?` (pfail) by the node that answered. */
  readonly failed: boolean;
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

export function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [id = '', address = '', flagText = '', master = '-', , , , , ...slotFields] = line.split(' ');
      const flags = flagText.split(',');
      const port = Number(/:(\d+)@/.exec(address)?.[1]);
      const slots = slotFields
        .filter((field) => !field.startsWith('['))
        .map((field): readonly [number, number] => {
          const [from, to = from] = field.split('-').map(Number) as [number, number?];
          return [from, to];
        });
      return {
        id,
        port,
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: master === '-' ? undefined : master,
        myself: flags.includes('myself'),
        failed: flags.includes('fail') || flags.includes('fail?'),
        slots,
      };
    });
}
