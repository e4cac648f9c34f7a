// The "inspect your own" box, given what people paste: a known_hosts line with a
// hashed name (made by ssh-keygen -H) and a two-certificate chain (the mtls
// scenario's server certificate and intermediate, from mtls-certificates.pem),
// in English and Japanese; the user chooses which one's bytes are shown, and the
// answer comes into view.
import { test, expect } from '@playwright/test';
import { guard, open, SHOTS } from './helpers.mjs';

// `ssh-keygen -H` of "server.example.com ssh-ed25519 …"; ssh-keygen -lf prints
// 256 SHA256:9mWbCVe7t8mVGgPIL+RtykEDt8Vi4kv3Evrn9gyk0Eg for it.
const KNOWN_HOSTS = '|1|eJO9qM+rC5nqQCtykXh2twWQWJY=|bnbWsQ5otSbJzEGxVWe1Iztq1rQ= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKSrXbxrILM73ZJZ0crGI1NyPU05UMRfL0bCsU+E0xo1';
const FINGERPRINT = 'SHA256:9mWbCVe7t8mVGgPIL+RtykEDt8Vi4kv3Evrn9gyk0Eg';
// A note above, then leaf and intermediate, as an admin might mail them.
const CHAIN = `Our server's chain, leaf first:
-----BEGIN CERTIFICATE-----
MIIBjTCCAT+gAwIBAgICEAowBQYDK2VwMDwxFDASBgNVBAoMC2NpcGhlcnN0YWdl
MSQwIgYDVQQDDBtjaXBoZXJzdGFnZSBJbnRlcm1lZGlhdGUgQ0EwHhcNMjYwNjAx
MDAwMDAwWhcNMjcwNjAxMDAwMDAwWjAwMRQwEgYDVQQKDAtjaXBoZXJzdGFnZTEY
MBYGA1UEAwwPd3d3LmV4YW1wbGUuY29tMCowBQYDK2VwAyEAhKkm3TYDYMHCxI0F
X0TGz/u8UYEn7XfS7s/kg31zJD6jcTBvMB8GA1UdIwQYMBaAFL3I0M8tecjgVOlQ
WKXx0IfXyMUkMCcGA1UdEQQgMB6CD3d3dy5leGFtcGxlLmNvbYILZXhhbXBsZS5j
b20wDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMAUGAytlcANB
AFKJvng78okEXi8BPL71Ai+VvuhA8+oQMBgQbxV6mf0xbm/qWFAUreoUf1P6q/Ts
Qg9J3znfmtquaNcFvzn5KQA=
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIIBYjCCARSgAwIBAgICEAIwBQYDK2VwMDQxFDASBgNVBAoMC2NpcGhlcnN0YWdl
MRwwGgYDVQQDDBNjaXBoZXJzdGFnZSBSb290IENBMB4XDTI2MDEwMTAwMDAwMFoX
DTM2MDEwMTAwMDAwMFowPDEUMBIGA1UECgwLY2lwaGVyc3RhZ2UxJDAiBgNVBAMM
G2NpcGhlcnN0YWdlIEludGVybWVkaWF0ZSBDQTAqMAUGAytlcAMhAK/F7RYAuKUY
MpCqDj+TIzkKFmxt39QD6LbGM8Y7aum2o0IwQDAOBgNVHQ8BAf8EBAMCAQYwHQYD
VR0OBBYEFL3I0M8tecjgVOlQWKXx0IfXyMUkMA8GA1UdEwEB/wQFMAMBAf8wBQYD
K2VwA0EAANnm4vaA07k/qFwnpOwkQFzNMXKLhVQ7ZcJBzKVRNvkulLjb7zx8r2jT
AMfyE2OgnGe/FXefLn+kMWt/856OCQ==
-----END CERTIFICATE-----
`;

const TEXT = {
  en: { hashed: 'hashed', signedYes: 'yes:', last: 'no next certificate', found: '2 found' },
  ja: { hashed: 'ハッシュ化', signedYes: 'はい', last: '次の証明書はありません', found: '2 個見つかりました' },
};

/** The top of the answer is inside the window. */
async function inView(page, sel) {
  await expect.poll(async () => page.locator(sel).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top > -2 && r.top < window.innerHeight - 40;
  })).toBe(true);
}

for (const lang of ['en', 'ja']) {
  test(`inspect: a hashed known_hosts line and a two-certificate chain, the second chosen (${lang})`, async ({ page }) => {
    const g = guard(page);
    const T = TEXT[lang];
    await open(page, `?lang=${lang}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.fill('#inspect-input', KNOWN_HOSTS);
    await page.click('#inspect-go');
    const result = page.locator('#inspect-result');
    await expect(result).toContainText(FINGERPRINT);
    await expect(result).toContainText(T.hashed);
    await expect(result).toContainText('256 ' + FINGERPRINT);
    expect(await result.locator('#hex .b').count()).toBe(51);
    await inView(page, '#inspect-result');
    // The hashed name is its own item: 20 bytes of salt, 20 of HMAC-SHA1.
    await page.click('#inspect-item-2');
    await expect(page.locator('#inspect-item-2')).toHaveAttribute('aria-pressed', 'true');
    expect(await result.locator('#hex .b').count()).toBe(40);
    await result.locator('#hex .b').nth(25).click();
    await expect(result.locator('.explain')).toContainText('HMAC-SHA1');
    await page.screenshot({ path: `${SHOTS}/inspect-known-hosts-${lang}-1280x800.png` });

    await page.evaluate(() => window.scrollTo(0, 0));
    await page.fill('#inspect-input', CHAIN);
    await page.click('#inspect-go');
    await expect(result).toContainText(T.found);
    await expect(page.locator('#inspect-item-1')).toContainText('www.example.com');
    await expect(page.locator('#inspect-item-2')).toContainText('Intermediate');
    await expect(result.locator('.facts')).toContainText(T.signedYes);
    await inView(page, '#inspect-result');
    const first = await result.locator('#hex .b').count();
    await page.click('#inspect-item-2');
    await expect(result.locator('h3')).toContainText('2.');
    await expect(result.locator('.facts')).toContainText(T.last);
    const second = await result.locator('#hex .b').count();
    expect(second).toBe(358);
    expect(second).not.toBe(first);
    await inView(page, '#inspect-result');
    await page.screenshot({ path: `${SHOTS}/inspect-chain-${lang}-1280x800.png` });

    // A private key is refused, saying why; the refusal comes into view too.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.fill('#inspect-input', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n');
    await page.click('#inspect-go');
    await expect(page.locator('#inspect-error')).toContainText('PRIVATE KEY');
    await inView(page, '#inspect-error');
    await page.fill('#inspect-input', '<html><body>hello</body></html>');
    await page.click('#inspect-go');
    await expect(page.locator('#inspect-error')).toContainText('HTML');
    g.check();
  });
}

test('inspect on a phone: the chain chooser wraps, nothing overflows, the answer is in view (ja)', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  const g = guard(page);
  await open(page, '?lang=ja');
  await page.fill('#inspect-input', CHAIN);
  await page.click('#inspect-go');
  await expect(page.locator('#inspect-item-2')).toBeVisible();
  await page.click('#inspect-item-2');
  await expect(page.locator('#inspect-result .facts')).toContainText(TEXT.ja.last);
  await inView(page, '#inspect-result');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `${SHOTS}/inspect-chain-ja-390x844.png` });
  g.check();
  await ctx.close();
});
