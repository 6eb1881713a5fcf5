// The message catalogues must stay in step: same keys, same placeholders,
// no empty strings. Runs without a server or a browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const I18N = path.join(ROOT, 'web-assets/i18n');
const LANGS = ['en', 'zh-CN', 'zh-TW'];

async function load(lang) {
  return JSON.parse(await readFile(path.join(I18N, `${lang}.json`), 'utf8'));
}

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every catalogue has exactly the keys of en.json', async () => {
  const en = await load('en');
  const enKeys = Object.keys(en).sort();
  for (const lang of LANGS.slice(1)) {
    const keys = Object.keys(await load(lang)).sort();
    const missing = enKeys.filter((k) => !keys.includes(k));
    const extra = keys.filter((k) => !enKeys.includes(k));
    assert.deepEqual({ lang, missing, extra }, { lang, missing: [], extra: [] });
  }
});

test('translations are non-empty strings with the same placeholders', async () => {
  const en = await load('en');
  for (const lang of LANGS) {
    const cat = await load(lang);
    for (const [key, value] of Object.entries(cat)) {
      assert.equal(typeof value, 'string', `${lang}: ${key} is not a string`);
      assert.ok(value.trim().length > 0, `${lang}: ${key} is empty`);
      assert.deepEqual(placeholders(value), placeholders(en[key] ?? ''), `${lang}: ${key} placeholders differ`);
    }
  }
});

test('the Chinese catalogues are actually translated', async () => {
  const en = await load('en');
  for (const lang of ['zh-CN', 'zh-TW']) {
    const cat = await load(lang);
    for (const key of ['login.submit', 'login.email', 'nav.account', 'nav.signOut', 'twofa.title']) {
      assert.notEqual(cat[key], en[key], `${lang}: ${key} is still English`);
      assert.match(cat[key], /[\u4e00-\u9fff]/, `${lang}: ${key} has no Chinese characters`);
    }
  }
});

test('every key used in the console code exists in en.json', async () => {
  const en = await load('en');
  const files = [];
  async function walk(dir) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.name.endsWith('.js')) files.push(p);
    }
  }
  await walk(path.join(ROOT, 'web-assets'));
  const missing = [];
  for (const file of files) {
    const src = await readFile(file, 'utf8');
    for (const m of src.matchAll(/\bt\(\s*'([^']+)'/g)) {
      if (!(m[1] in en)) missing.push(`${path.relative(ROOT, file)}: ${m[1]}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('browser languages map to the right catalogue', async () => {
  const { matchLanguage } = await import('../../web-assets/shared/i18n.js');
  const cases = {
    'en-US': 'en', fr: 'en', '': 'en',
    zh: 'zh-CN', 'zh-CN': 'zh-CN', 'zh-SG': 'zh-CN', 'zh-Hans': 'zh-CN', 'zh-Hans-HK': 'zh-CN',
    'zh-TW': 'zh-TW', 'zh-HK': 'zh-TW', 'zh-MO': 'zh-TW', 'zh-Hant': 'zh-TW', 'zh-Hant-CN': 'zh-TW', zh_TW: 'zh-TW',
  };
  for (const [tag, expected] of Object.entries(cases)) {
    assert.equal(matchLanguage(tag), expected, `${tag}`);
  }
});
