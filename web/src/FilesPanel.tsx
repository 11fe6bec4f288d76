/** Browse the served roots; open FITS files in the viewer; pick a folder as the night to process. */
import { useEffect, useState } from 'react';
import { get, q } from './api';
import { fileSource } from './ProcessingPanel';
import type { Source } from './Viewer';

export function FilesPanel({ onOpen, onNight }: { onOpen: (s: Source) => void; onNight: (p: string) => void }) {
  const [path, setPath] = useState<string | null>(null);
  const [listing, setListing] = useState<any>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setError(null);
    get(path ? q('/api/files', { path }) : '/api/files')
      .then(setListing)
      .catch((e: Error) => setError(e.message));
  }, [path]);
  return (
    <div className="panel" data-testid="files-panel">
      <h2>Files</h2>
      {error && <div className="banner error">{error}</div>}
      <div className="row">
        <span className="muted grow">{listing?.path ?? 'roots'}</span>
        {listing?.path && <button onClick={() => setPath(listing.parent)}>Up</button>}
        {listing?.path && <button onClick={() => onNight(listing.path)}>Use as night</button>}
      </div>
      <ul className="files">
        {listing?.entries.map((e: any) => (
          <li key={e.path}>
            {e.type === 'dir' ? (
              <a onClick={() => setPath(e.path)}>📁 {e.name}</a>
            ) : e.fits ? (
              <a onClick={() => onOpen(fileSource(e.path))}>{e.name}</a>
            ) : (
              <span className="muted">{e.name}</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
