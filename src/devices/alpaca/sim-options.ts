/** Options of `darkroom alpaca-sim` defined in the option catalogue (flag, default, range, help in one place). */
import { defineCatalogue, type Catalogue, type CatalogueSpecs } from '../../util/options.js';

export interface AlpacaSimOptions {
  /** ImageBytes transfers paced at this many MB (10^6 bytes) per second; absent: sent at once. */
  downloadRate?: number;
}

const SPECS: CatalogueSpecs<AlpacaSimOptions> = {
  downloadRate: {
    flag: '--download-rate <MBps>',
    type: 'number',
    min: 0,
    max: 10_000,
    exclusive: true,
    help: 'send images (ImageBytes) at this many MB/s, as over a slow link',
    defaultText: 'at once',
    doc: 'Paces the ImageArray answer (a slice every 50 ms, Content-Length sent first) so that a client can be watched following the download.',
  },
};

export const ALPACA_SIM_CATALOGUE: Catalogue = defineCatalogue<AlpacaSimOptions>(SPECS);
