/** The sequence editor's state: the form, the camera's filters and the run status, the live estimate. */
import { useEffect, useState } from 'react';
import { get, onEvent, post } from './api';
import { newGroup, toPlan, HEAD_KEYS, type Group, type Order, type PlanHead } from './sequenceModel';
import { automationFrom, emptyAutomation, type AutomationState } from './automationModel';
import { usePlanSchema, type AutomationEdit } from './AutomationForm';

export interface SequenceForm extends PlanHead, AutomationEdit {
  automation: AutomationState;
  setBase: (s: string) => void;
  setObject: (s: string) => void;
  setOrder: (o: Order) => void;
  out: string;
  setOut: (s: string) => void;
  groups: Group[];
  setGroup: (i: number, patch: Partial<Group>) => void;
  addGroup: (filters: string[]) => void;
  removeGroup: (i: number) => void;
  /** Fill the form from a plan (a loaded plan file). */
  load: (plan: any) => void;
}

/** Where the form is kept between visits (a reload keeps the plan being edited). */
const FORM_KEY = 'darkroom-sequence-form';

function storedForm(): { base: string; object: string; order: Order; out: string; groups: Group[]; automation: AutomationState } {
  const d = { base: 'frame', object: '', order: 'cycle' as Order, out: 'sequence', groups: [newGroup()], automation: emptyAutomation() };
  try {
    const s = JSON.parse(localStorage.getItem(FORM_KEY) ?? 'null');
    if (s && Array.isArray(s.groups) && s.groups.length) return { ...d, ...s, groups: s.groups.map((g: Partial<Group>) => ({ ...newGroup(), ...g })), automation: { ...emptyAutomation(), ...s.automation } };
  } catch {
    // nothing kept, or not readable: the defaults
  }
  return d;
}

export function useSequenceForm(): SequenceForm {
  const [init] = useState(storedForm);
  const [base, setBase] = useState(init.base);
  const [object, setObject] = useState(init.object);
  const [order, setOrder] = useState<Order>(init.order);
  const [out, setOut] = useState(init.out);
  const [groups, setGroups] = useState<Group[]>(init.groups);
  const [automation, setAutomation] = useState<AutomationState>(init.automation);
  const schema = usePlanSchema();
  useEffect(() => {
    localStorage.setItem(FORM_KEY, JSON.stringify({ base, object, order, out, groups, automation }));
  }, [base, object, order, out, groups, automation]);
  const setValue = (key: string, v: string | boolean) => setAutomation((a) => ({ ...a, values: { ...a.values, [key]: v } }));
  const setOn = (key: string, on: boolean) => setAutomation((a) => ({ ...a, on: { ...a.on, [key]: on } }));
  const load = (plan: any): void => {
    setAutomation(automationFrom(plan ?? {}, HEAD_KEYS));
    setBase(plan.base ?? 'frame');
    setObject(plan.object ?? '');
    setOrder(plan.order === 'group' ? 'group' : 'cycle');
    setGroups((plan.groups ?? []).map((g: any) => ({ ...newGroup(), ...g, filter: g.filter ?? '' })));
  };
  const setGroup = (i: number, patch: Partial<Group>) => setGroups((gs) => gs.map((g, k) => (k === i ? { ...g, ...patch } : g)));
  // a new group takes the next filter of the wheel
  const addGroup = (filters: string[]) => setGroups((gs) => [...gs, newGroup(filters[gs.length % Math.max(1, filters.length)] ?? '')]);
  const removeGroup = (i: number) => setGroups((gs) => gs.filter((_, k) => k !== i));
  return { base, setBase, object, setObject, order, setOrder, out, setOut, groups, setGroup, addGroup, removeGroup, load, automation, schema, setValue, setOn };
}

/**
 * The sequence's run status (from the server and its events), the camera's filter names and its
 * largest binning (4 while no camera says otherwise), reloaded on (dis)connect.
 */
export function useSequenceStatus(): { status: any; setStatus: (s: any) => void; filters: string[]; maxBin: number } {
  const [filters, setFilters] = useState<string[]>([]);
  const [maxBin, setMaxBin] = useState(4);
  const [status, setStatus] = useState<any>(null);
  useEffect(() => {
    const load = () =>
      get('/api/camera/status')
        .then((s) => {
          setFilters(s.filters ?? []);
          setMaxBin(s.sensor ? Math.min(s.sensor.maxBinX ?? 4, s.sensor.maxBinY ?? 4) : 4);
        })
        .catch(() => undefined);
    void load();
    void get('/api/sequence/status').then(setStatus).catch(() => undefined);
    return onEvent((ev) => {
      if (ev.type === 'sequence') setStatus({ ...ev.status });
      if (ev.type === 'hello' && ev.sequence) setStatus(ev.sequence);
      if (ev.type === 'connected' || ev.type === 'disconnected') void load();
    });
  }, []);
  return { status, setStatus, filters, maxBin };
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
  }, [head.base, head.object, head.order, head.automation, head.schema, groups, filters]);
  return { estimate, estError };
}
