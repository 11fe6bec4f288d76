import { useState } from 'react';
import { CameraPanel } from './CameraPanel';
import { FilesPanel } from './FilesPanel';
import { ProcessingPanel } from './ProcessingPanel';
import { SequencePanel } from './SequencePanel';
import { FocusPanel, GuidePanel } from './FocusGuidePanel';
import { Viewer, type Source } from './Viewer';
import { WarningsTray } from './warnings';
import { NightView } from './NightView';

type Tab = 'camera' | 'sequence' | 'focus' | 'guide' | 'processing' | 'files';

export function App() {
  const [tab, setTab] = useState<Tab>('camera');
  const [source, setSource] = useState<Source | null>(null);
  const [night, setNight] = useState('');
  return (
    <div className="app">
      <aside className="side">
        <header>
          <div className="row">
            <span className="logo">Darkroom</span>
            <span className="spacer" />
            <WarningsTray />
          </div>
          <nav>
            {(['camera', 'sequence', 'focus', 'guide', 'processing', 'files'] as Tab[]).map((t) => (
              <button key={t} className={tab === t ? 'tab active' : 'tab'} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
                {t[0]!.toUpperCase() + t.slice(1)}
              </button>
            ))}
          </nav>
        </header>
        <div style={{ display: tab === 'camera' ? 'block' : 'none' }}>
          <CameraPanel onImage={setSource} />
        </div>
        <div style={{ display: tab === 'sequence' ? 'block' : 'none' }}>
          <SequencePanel onOpen={setSource} />
        </div>
        <div style={{ display: tab === 'focus' ? 'block' : 'none' }}>
          <FocusPanel />
        </div>
        <div style={{ display: tab === 'guide' ? 'block' : 'none' }}>
          <GuidePanel />
        </div>
        <div style={{ display: tab === 'processing' ? 'block' : 'none' }}>
          <ProcessingPanel night={night} setNight={setNight} onOpen={setSource} />
        </div>
        {tab === 'files' && (
          <FilesPanel
            onOpen={setSource}
            onNight={(p) => {
              setNight(p);
              setTab('processing');
            }}
          />
        )}
      </aside>
      <main className="main">
        <div className="imaging">
          <Viewer source={source} />
          <NightView />
        </div>
      </main>
    </div>
  );
}
