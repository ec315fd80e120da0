import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, SettingIds } from '@ray-connect/shared';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
const nls = JSON.parse(readFileSync(join(__dirname, '..', 'package.nls.json'), 'utf8'));

describe('package.json contributes', () => {
  it('contributes every shared command, in category Ray, with an icon and a title', () => {
    const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
    expect(contributed).toEqual(COMMANDS.map((c) => c.id).sort());
    for (const c of pkg.contributes.commands) {
      expect(c.category).toBe('Ray');
      expect(c.icon).toMatch(/^\$\([a-z-]+\)$/);
      expect(nls[c.title.replace(/%/g, '')]).toBeTruthy();
    }
  });
  it('declares every shared setting; insecureSkipTlsVerify says it is a security risk', () => {
    const props = Object.keys(pkg.contributes.configuration.properties).sort();
    expect(props).toEqual(Object.values(SettingIds).sort());
    const d =
      nls[
        pkg.contributes.configuration.properties[
          'rayConnect.insecureSkipTlsVerify'
        ].markdownDescription.replace(/%/g, '')
      ];
    expect(d).toMatch(/Security risk/);
  });
  it('activates lazily and only has menu entries for known commands', () => {
    expect(pkg.activationEvents).toEqual([]);
    const ids = new Set(COMMANDS.map((c) => c.id));
    for (const m of [...pkg.contributes.menus['view/title'], ...pkg.contributes.menus['view/item/context']])
      expect(ids.has(m.command)).toBe(true);
    expect(pkg.main).toBe('./dist/extension.js');
  });
});
