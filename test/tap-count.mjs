// Counting a TAP stream for the closing line 'N passed, N failed, N skipped': one count per
// assertion line; '# SKIP' and '# TODO' lines are skipped, whether or not they say ok.

export function newTapCounts() {
  return { pass: 0, fail: 0, skip: 0 };
}

export function countTapLine(line, counts) {
  if (/^(not )?ok \d+.*# (SKIP|TODO)\b/i.test(line) || /^# SKIP /.test(line)) counts.skip++;
  else if (/^ok \d+/.test(line)) counts.pass++;
  else if (/^not ok \d+/.test(line)) counts.fail++;
  return counts;
}

export function tapSummary(counts) {
  return `${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped`;
}
