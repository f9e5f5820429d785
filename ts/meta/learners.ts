// The built-in learners: one import and one registration per learner. Adding a learner is
// its own file (the algorithm and its LearnerEntry) and one line here.

import { registerLearner } from './registry.js';
import { mamlEntry, fomamlEntry } from './maml.js';
import { reptileEntry } from './reptile.js';
import { anilEntry } from './anil.js';
import { metaSgdEntry } from './metasgd.js';
import { mamlPlusPlusEntry } from './mamlpp.js';
import { imamlEntry } from './imaml.js';
import { pretrainedEntry } from './pretrain.js';
import { protonetEntry } from './protonet.js';
import { matchingEntry } from './matching.js';
import { relationEntry } from './relation.js';
import { siameseEntry } from './siamese.js';
import { gnnEntry } from './gnn.js';
import { r2d2Entry } from './r2d2.js';
import { lstmOptimizerEntry } from './lstm-optimizer.js';
import { metaLearnerLstmEntry } from './meta-lstm.js';
import { mannEntry } from './mann.js';
import { metaNetworksEntry } from './metanet.js';
import { snailEntry } from './snail.js';
import { hypernetEntry } from './hypernet.js';

registerLearner(mamlEntry);
registerLearner(fomamlEntry);
registerLearner(reptileEntry);
registerLearner(anilEntry);
registerLearner(metaSgdEntry);
registerLearner(mamlPlusPlusEntry);
registerLearner(imamlEntry);
registerLearner(pretrainedEntry);
registerLearner(protonetEntry);
registerLearner(matchingEntry);
registerLearner(relationEntry);
registerLearner(siameseEntry);
registerLearner(gnnEntry);
registerLearner(r2d2Entry);
registerLearner(lstmOptimizerEntry);
registerLearner(metaLearnerLstmEntry);
registerLearner(mannEntry);
registerLearner(metaNetworksEntry);
registerLearner(snailEntry);
registerLearner(hypernetEntry);
