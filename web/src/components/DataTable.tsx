/** Results table: typed columns (numbers right-aligned, datetimes formatted), click-to-sort headers, pages. */
import { useMemo, type ReactNode } from 'react';
import {
  createPaginatedRowModel,
  createSortedRowModel,
  rowPaginationFeature,
  rowSortingFeature,
  sortFns,
  tableFeatures,
  useTable,
  FlexRender,
} from '@tanstack/react-table';
import type { LogsColumn } from '../lib/api';
import { formatValue } from '../lib/time';
import { Link } from './ui';

const features = tableFeatures({
  rowSortingFeature,
  rowPaginationFeature,
  sortedRowModel: createSortedRowModel(),
  paginatedRowModel: createPaginatedRowModel(),
  sortFns,
});

function Cell({ href, children }: { href?: string; children: ReactNode }) {
  return href ? <Link to={href}>{children}</Link> : <>{children}</>;
}

const numeric = (t: string) => t === 'long' || t === 'int' || t === 'real' || t === 'decimal';

export function DataTable({
  columns,
  rows,
  caption,
  pageSize = 50,
  rowAction,
  cellHref,
}: {
  columns: LogsColumn[];
  rows: unknown[][];
  caption: string;
  pageSize?: number;
  rowAction?: (row: unknown[], index: number) => ReactNode;
  /** Renders a cell as a link when it returns an href. */
  cellHref?: (column: string, value: unknown, row: unknown[]) => string | undefined;
}) {
  const defs = useMemo(
    () =>
      columns.map((c, i) => ({
        id: `${i}:${c.name}`,
        accessorFn: (r: unknown[]) => r[i] as any,
        header: c.name,
        sortFn: (numeric(c.type) ? 'basic' : 'alphanumeric') as any,
        sortUndefined: 'last' as const,
        cell: (info: any) => formatValue(info.getValue(), c.type),
        meta: { type: c.type },
      })),
    [columns],
  );
  const table = useTable({ features, columns: defs as any, data: rows, initialState: { pagination: { pageIndex: 0, pageSize } } } as any) as any;
  const pageCount: number = table.getPageCount();
  const pageIndex: number = table.state.pagination.pageIndex;
  return (
    <div className="table-wrap">
      <table className="data">
        <caption className="sr-only">{caption}</caption>
        <thead>
          {table.getHeaderGroups().map((hg: any) => (
            <tr key={hg.id}>
              {rowAction && (
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              )}
              {hg.headers.map((h: any, i: number) => {
                const sorted = h.column.getIsSorted();
                const type = columns[i]?.type ?? '';
                return (
                  <th
                    key={h.id}
                    scope="col"
                    className={numeric(type) ? 'num' : ''}
                    aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
                  >
                    <button type="button" className="sort" onClick={h.column.getToggleSortingHandler()} title={`${columns[i]?.name} (${type}) — sort`}>
                      {columns[i]?.name}
                      <span className="coltype">{type}</span>
                      <span aria-hidden="true">{sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row: any) => (
            <tr key={row.id}>
              {rowAction && <td className="row-action">{rowAction(row.original, row.index)}</td>}
              {row.getAllCells().map((cell: any, i: number) => (
                <td key={cell.id} className={numeric(columns[i]?.type ?? '') ? 'num' : ''}>
                  <Cell href={cellHref?.(columns[i]?.name, cell.getValue(), row.original)}>
                    <FlexRender cell={cell} />
                  </Cell>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {pageCount > 1 && (
        <nav className="pager" aria-label={`${caption} pages`}>
          <button type="button" onClick={() => table.previousPage()} disabled={!table.getCanPreviousPage()}>
            Previous
          </button>
          <span>
            Page {pageIndex + 1} of {pageCount} ({rows.length.toLocaleString('en-US')} rows)
          </span>
          <button type="button" onClick={() => table.nextPage()} disabled={!table.getCanNextPage()}>
            Next
          </button>
        </nav>
      )}
    </div>
  );
}
