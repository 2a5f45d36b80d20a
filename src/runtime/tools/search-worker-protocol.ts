import type { PathScopeOptions } from '../path-scope.js';
import type { SearchRequest, SearchResult } from './searcher.js';

/** What crosses to the search worker: plain, structured-cloneable data only. */
export type WorkerSearchRequest = Omit<SearchRequest, 'filter' | 'shownAs' | 'signal'> & {
  /** The mission's scope, rebuilt in the worker to filter the walk. */
  readonly scope: PathScopeOptions;
};

export interface SearchJob {
  readonly id: number;
  readonly request: WorkerSearchRequest;
}

export type SearchReply =
  | { readonly id: number; readonly ok: true; readonly result: SearchResult }
  | {
      readonly id: number;
      readonly ok: false;
      readonly kind: 'pattern' | 'glob' | 'error';
      readonly message: string;
    };
