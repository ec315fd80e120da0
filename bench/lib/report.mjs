// Renders the Markdown report from the JSON report.
const fmt = (v) => (typeof v === 'number' ? String(v) : (v ?? ''));

function targetText(f) {
  if (!f.target) return '';
  return f.target.text ?? `${f.target.op} ${f.target.value}${f.target.unit ? ' ' + f.target.unit : ''}`;
}

function verdict(f) {
  if (f.status) return f.status === 'not-measured' ? 'not measured' : 'not available';
  if (!f.target) return 'reported';
  if (f.met === true) return 'met';
  if (f.met === false) return 'MISSED';
  return 'n/a';
}

function ratiosText(f) {
  if (!f.ratios) return '';
  return Object.entries(f.ratios)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${v}x ${k}`)
    .join(', ');
}

export function renderMarkdown(r) {
  const out = [];
  const m = r.machine;
  const v = r.versions;
  out.push('# Ray Connect benchmarks', '');
  out.push(`Run ${r.date} in ${r.totalSeconds} s. Reproduce: \`${r.command}\` (one suite: \`pnpm bench <suite>\`; see bench/README.md).`, '');
  out.push('## Machine and versions', '');
  out.push(`- machine: ${m.cores} cores (${m.cpu ?? 'cpu unknown'}), ${m.memoryGiB} GiB memory (${m.freeMemoryGiB} GiB free at start), ${m.os}`);
  out.push(`- load average at start ${m.loadavgStart?.join(' / ')}, at end ${m.loadavgEnd?.join(' / ')} (shared machine: other builds and tests were running; compare ratios, not absolute figures)`);
  out.push(
    `- versions: node ${v.node}, pnpm ${v.pnpm ?? '?'}, kubectl ${v.kubectl ?? '?'}, kube-apiserver ${v.apiserver ?? '?'}, kwok ${v.kwok ?? '?'}, ray ${v.ray ?? '?'}, commit ${v.commit ?? '?'}`,
  );
  out.push(`- build: ${r.setup.build}; sandbox: ${r.setup.sandbox}`, '');

  const all = r.suites.flatMap((s) => s.figures ?? []);
  const met = all.filter((f) => f.met === true).length;
  const missedN = all.filter((f) => f.met === false).length;
  const unavailable = all.filter((f) => f.status).length + r.suites.filter((s) => s.status !== 'ok').length;
  out.push(`**${met} target(s) met, ${missedN} missed, ${unavailable} figure(s) not measured or not available.**`, '');
  out.push('## Summary against the targets', '');
  out.push('| suite | figure | value | compared | target | verdict |', '|---|---|---|---|---|---|');
  for (const s of r.suites) {
    if (s.status !== 'ok') {
      out.push(`| ${s.name} | (whole suite) | not available: ${s.reason} | | | not available |`);
      continue;
    }
    for (const f of s.figures) {
      const value = f.status ? `${f.status.replace('-', ' ')}: ${f.reason}` : `${fmt(f.value)} ${f.unit ?? ''}`;
      out.push(`| ${s.name} | ${f.label} | ${value} | ${ratiosText(f)} | ${targetText(f)} | ${verdict(f)} |`);
    }
  }
  out.push('');

  const missed = r.suites.flatMap((s) => (s.figures ?? []).filter((f) => f.met === false).map((f) => ({ s, f })));
  if (missed.length) {
    out.push('## Missed targets', '');
    for (const { s, f } of missed) out.push(`- **${s.name} / ${f.label}**: ${f.missedBy ?? 'missed'}${f.why ? ` because ${f.why}` : ''}.`);
    out.push('');
  }

  const gaps = [
    ...r.suites.filter((s) => s.status !== 'ok').map((s) => `- **${s.name}** (whole suite): not available: ${s.reason}`),
    ...r.suites.flatMap((s) => (s.figures ?? []).filter((f) => f.status).map((f) => `- **${s.name} / ${f.label}**: ${f.status.replace('-', ' ')}: ${f.reason}`)),
  ];
  if (gaps.length) out.push('## Not measured / not available', '', ...gaps, '');
  out.push('## Suites', '');
  for (const s of r.suites) {
    out.push(`### ${s.title} (\`${s.name}\`, ${s.seconds} s)`, '');
    if (s.status !== 'ok') {
      out.push(`Not available: ${s.reason}`, '');
      continue;
    }
    for (const f of s.figures) {
      if (f.status) {
        out.push(`- ${f.label}: **${f.status.replace('-', ' ')}**: ${f.reason}`);
        continue;
      }
      const parts = [`**${fmt(f.value)} ${f.unit ?? ''}**`];
      const rt = ratiosText(f);
      if (rt) parts.push(`(${rt})`);
      if (f.target) parts.push(`target ${targetText(f)}: ${verdict(f)}${f.met === false && f.missedBy ? `, ${f.missedBy}${f.why ? ` because ${f.why}` : ''}` : ''}`);
      if (f.note) parts.push(`- ${f.note}`);
      out.push(`- ${f.label}: ${parts.join(' ')}`);
    }
    for (const n of s.notes ?? []) out.push(`- note: ${n}`);
    out.push('');
  }
  return out.join('\n') + '\n';
}
