/**
 * The sequence editor's night automation keys (automationModel.ts): one row a key, an object key on or
 * off as a whole, each field an input of the schema's type with its range and, as placeholder, its default.
 */
import { useEffect, useState } from 'react';
import { get } from './api';
import { FIELD_LABELS, isObject, minOf, placeholder, sectionFields, SECTIONS, planKeys, type AutomationState, type SchemaNode, type Section } from './automationModel';

let schemaOnce: Promise<SchemaNode | null> | null = null;

/** The plan's JSON Schema: the body of POST /api/sequence/estimate in the server's OpenAPI document. */
function fetchPlanSchema(): Promise<SchemaNode | null> {
  schemaOnce ??= get('/api/openapi.json')
    .then((doc) => doc.paths['/api/sequence/estimate'].post.requestBody.content['application/json'].schema.properties.plan as SchemaNode)
    .catch(() => {
      schemaOnce = null;
      return null;
    });
  return schemaOnce;
}

export function usePlanSchema(): SchemaNode | null {
  const [schema, setSchema] = useState<SchemaNode | null>(null);
  useEffect(() => {
    void fetchPlanSchema().then(setSchema);
  }, []);
  return schema;
}

export interface AutomationEdit {
  automation: AutomationState;
  setValue: (key: string, v: string | boolean) => void;
  setOn: (key: string, on: boolean) => void;
}

const tid = (key: string): string => `auto-${key.replace(/\./g, '-')}`;

/** One input for a schema node: checkbox, choice, number (range from the schema) or text. */
function Field({ k, n, edit }: { k: string; n: SchemaNode; edit: AutomationEdit }) {
  const v = edit.automation.values[k];
  if (n.type === 'boolean') {
    const checked = typeof v === 'boolean' ? v : n.default === true;
    return <input type="checkbox" checked={checked} onChange={(e) => edit.setValue(k, e.target.checked)} data-testid={tid(k)} />;
  }
  if (n.enum) {
    return (
      <select value={typeof v === 'string' ? v : ''} onChange={(e) => edit.setValue(k, e.target.value)} data-testid={tid(k)}>
        <option value="">{n.default !== undefined ? `(${String(n.default)})` : '-'}</option>
        {n.enum.map((o) => <option key={o}>{o}</option>)}
      </select>
    );
  }
  const numeric = n.type === 'number' || n.type === 'integer';
  return (
    <input
      className={numeric ? 'num' : 'grow'}
      type={numeric ? 'number' : 'text'}
      min={numeric ? minOf(n) : undefined}
      max={numeric ? n.maximum : undefined}
      step={n.type === 'integer' ? 1 : 'any'}
      placeholder={placeholder(n)}
      value={typeof v === 'string' ? v : ''}
      onChange={(e) => edit.setValue(k, e.target.value)}
      data-testid={tid(k)}
    />
  );
}

function SectionRow({ s, schema, edit }: { s: Section; schema: SchemaNode; edit: AutomationEdit }) {
  const node = planKeys(schema)[s.key];
  if (!node) return null;
  if (!isObject(s)) {
    return (
      <>
        <label>{s.label}</label>
        <span className="auto-fields"><Field k={s.key} n={node.anyOf?.find((a) => a.type !== 'null') ?? node} edit={edit} /></span>
      </>
    );
  }
  const on = !s.toggle || !!edit.automation.on[s.key];
  return (
    <>
      <label>
        {s.toggle && <input type="checkbox" checked={on} onChange={(e) => edit.setOn(s.key, e.target.checked)} data-testid={tid(s.key)} />} {s.label}
      </label>
      <span className="auto-fields">
        {on &&
          sectionFields(s, schema).map(([f, n]) => (
            <span key={f} className="auto-field">
              <span className="muted">{FIELD_LABELS[f] ?? f}</span> <Field k={`${s.key}.${f}`} n={n} edit={edit} />
            </span>
          ))}
      </span>
    </>
  );
}

/** The automation keys of the plan, folded away until opened. */
export function AutomationForm({ edit }: { edit: AutomationEdit }) {
  const schema = usePlanSchema();
  return (
    <details className="automation" data-testid="seq-automation">
      <summary>Night automation</summary>
      {schema ? (
        <div className="grid2">
          {SECTIONS.map((s) => <SectionRow key={s.key} s={s} schema={schema} edit={edit} />)}
        </div>
      ) : (
        <div className="muted">…</div>
      )}
    </details>
  );
}
