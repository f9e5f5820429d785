// The Omniglot split of Vinyals et al. (2016), "Matching Networks for One Shot Learning", as
// published with the Prototypical Networks code (Snell et al. 2017, MIT license): 1028 train,
// 172 val and 423 test characters; trainval = train then val. Shipped in the package so the
// standard protocols need only the release's two zips. Each character is listed once
// ('Alphabet:1-20,22' = character01..character20 and character22, in the published order);
// the published files list each with its four rotations, rot000 rot090 rot180 rot270, which
// expandVinyalsSplit() restores.

import { checkArgs, oneOf } from '../core/args.js';

export type VinyalsSplit = 'train' | 'val' | 'trainval' | 'test';

const SPLITS: Record<'train' | 'val' | 'test', string> = {
  train: 'Angelic:1-20;Grantha:1-43;N_Ko:1-33;Aurek-Besh:1-26;Japanese_(hiragana):1-52;Malay_(Jawi_-_Arabic):1-40;Asomtavruli_(Georgian):1-40;Sanskrit:1-42;Ojibwe_(Canadian_Aboriginal_Syllabics):1-14;Korean:1-40;Arcadian:1-26;Greek:1-24;Alphabet_of_the_Magi:1-20;Blackfoot_(Canadian_Aboriginal_Syllabics):1-14;Futurama:1-26;Gurmukhi:1-41;Tagalog:1-17;Anglo-Saxon_Futhorc:1-29;Braille:1-26;Cyrillic:1-33;Burmese_(Myanmar):1-34;Avesta:1-26;Gujarati:1-48;Ge_ez:1-26;Syriac_(Estrangelo):1-23;Atlantean:1-26;Japanese_(katakana):1-47;Balinese:1-24;Atemayar_Qelisayer:1-26;Glagolitic:1-45;Tifinagh:1-55;Latin:1-26;Inuktitut_(Canadian_Aboriginal_Syllabics):1-16',
  val: 'Hebrew:1-22;Mkhedruli_(Georgian):1-41;Armenian:1-41;Early_Aramaic:1-22;Bengali:1-46',
  test: 'Gurmukhi:42-45;Kannada:1-41;Keble:1-26;Malayalam:1-47;Manipuri:1-40;Mongolian:1-30;Old_Church_Slavonic_(Cyrillic):1-45;Oriya:1-46;Syriac_(Serto):1-23;Sylheti:1-28;Tengwar:1-25;Tibetan:1-42;ULOG:1-26',
};

/** The split's lines exactly as published: 'Alphabet/characterNN/rotDDD', in order. */
export function expandVinyalsSplit(split: VinyalsSplit): string[] {
  checkArgs('expandVinyalsSplit', [split], { split: oneOf(['train', 'val', 'trainval', 'test']) });
  if (split === 'trainval') return [...expandVinyalsSplit('train'), ...expandVinyalsSplit('val')];
  const out: string[] = [];
  for (const group of SPLITS[split].split(';')) {
    const [alphabet, ranges] = group.split(':') as [string, string];
    for (const r of ranges.split(',')) {
      const [lo, hi = lo] = r.split('-').map(Number) as [number, number?];
      for (let n = lo; n <= hi!; n++) {
        for (const rot of ['000', '090', '180', '270']) out.push(`${alphabet}/character${String(n).padStart(2, '0')}/rot${rot}`);
      }
    }
  }
  return out;
}
