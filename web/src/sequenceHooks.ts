/** The sequence editor's state: the form, the camera's filters and the run status, the live estimate. */
import { useEffect, useState } from 'react';
import { get, onEvent, post } from './api';
import { newGroup, toPlan, type Group, type Order, type PlanHead } from './sequenceModel';

export interface SequenceForm extends PlanHead {
  setBase: (s: string) => void;
  setObject: (s: string) => void;
  setOrder: (o: Order) => void;
  out: string;
  setOut: (s: string) => void;
  groups: Group[];
  setGroup: (i: number, patch: Partial<Group>) => void;
  addGroup: (filters: string[]) => void;
  removeGroup: (i: number) => void;
}

export function useSequenceForm(): SequenceForm {
  const [base, setBase] = useState('frame');
  const [object, setObject] = useState('');
  const [order, setOrder] = useState<Order>('cycle');
  const [out, setOut] = useState('sequence');
  const [groups, setGroups] = useState<Group[]>([newGroup()]);
  const setGroup = (i: number, patch: Partial<Group>) => setGroups((gs) => gs.map((g, k) => (k === i ? { ...g, ...patch } : g)));
  // a new group takes the next filter of the wheel
  const addGroup = (filters: string[]) => setGroups((gs) => [...gs, newGroup(filters[gs.length % Math.max(1, filters.length)] ?? '')]);
  const removeGroup = (i: number) => setGroups((gs) => gs.filter((_, k) => k !== i));
  return { base, setBase, object, setObject, order, setOrder, out, setOut, groups, setGroup, addGroup, removeGroup };
}

/** The sequence's run status (from the server and its events) and the camera's filter names, reloaded on (dis)connect. */
export function useSequenceStatus(): { status: any; setStatus: (s: any) => void; filters: string[] } {
  const [filters, setFilters] = useState<string[]>([]);
  const [status, setStatus] = useState<any>(null);
  useEffect(() => {
    const load = () => get('/api/camera/status').then((s) => setFilters(s.filters ?? [])).catch(() => undefined);
    void load();
    void get('/api/sequence/status').then(setStatus).catch(() => undefined);
    return onEvent((ev) => {
      if (ev.type === 'sequence') setStatus({ ...ev.status });
      if (ev.type === 'hello' && ev.sequence) setStatus(ev.sequence);
      if (ev.type === 'connected' || ev.type === 'disconnected') void load();
    });
  }, []);
  return { status, setStatus, filters };
}

/** The server's estimate of the plan, asked for 150 ms after the last change (or the error it gives). */
export function useEstimate(head: PlanHead, groups: Group[], filters: string[]): { estimate: any; estError: string | null } {
  const [estimate, setEstimate] = useState<any>(null);
  const [estError, setEstError] = useState<string | null>(null);
  useEffect(() => {
    const id = setTimeout(() => {
      post('/api/sequence/estimate', { plan: toPlan(head, groups) })
        .then((e) => {
          setEstimate(e);
          setEstError(null);
        })
        .catch((e: Error) => {
          setEstimate(null);
          setEstError(e.message);
        });
    }, 150);
    return () => clearTimeout(id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [head.base, head.object, head.order, groups, filters]);
  return { estimate, estError };
}
