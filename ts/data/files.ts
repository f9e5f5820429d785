// The data loaders that read files (Node only; the browser entry leaves them out).

export { loadOmniglot, readOmniglotSplitFile, omniglotTask, type LoadOmniglotOptions, type OmniglotOnDisk } from './omniglot-files.js';
export { loadMiniImageNet, type LoadMiniImageNetOptions, type MiniImageNetSplit } from './mini-imagenet.js';
export { dataCandidates, userDataDir, type DataCandidate } from './paths.js';
