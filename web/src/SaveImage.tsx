/** Save the camera's last image as FITS under a served root (POST /api/camera/image/save), with a numbered name. */
import { useEffect, useState } from 'react';
import { post } from './api';

/** LIGHT_30s_Luminance_0007.fits for image 7 of a 30 s light through Luminance. */
export function suggestedName(job: any, id: number): string {
  const p = job?.params ?? {};
  const parts = [String(p.type ?? 'image'), `${p.exposure ?? 0}s`, ...(p.filter ? [String(p.filter).replace(/[^\w-]+/g, '')] : []), String(id).padStart(4, '0')];
  return `${parts.join('_')}.fits`;
}

export function SaveImage({ lastImage, job }: { lastImage: { id: number } | null | undefined; job: any }) {
  const [folder, setFolder] = useState('captures');
  const [name, setName] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = lastImage?.id ?? 0;
  // a new image gets a new suggested name
  useEffect(() => {
    if (id) setName(suggestedName(job?.id === id ? job : null, id));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);
  const save = (): void => {
    setError(null);
    post('/api/camera/image/save', { path: `${folder.replace(/\/+$/, '')}/${name}` })
      .then((r) => setSaved(r.path))
      .catch((e: Error) => setError(e.message));
  };
  return (
    <>
      <h3>Save</h3>
      <div className="row">
        <input value={folder} onChange={(e) => setFolder(e.target.value)} style={{ width: 90 }} title="folder under a served root" data-testid="save-folder" />
        <span className="muted">/</span>
        <input value={name} onChange={(e) => setName(e.target.value)} className="grow" data-testid="save-name" />
        <button onClick={save} disabled={!id || !name} data-testid="save-image">Save FITS</button>
      </div>
      {saved && <div className="muted status-line" data-testid="saved-path">saved {saved}</div>}
      {error && <div className="banner error" data-testid="save-error">{error}</div>}
    </>
  );
}
