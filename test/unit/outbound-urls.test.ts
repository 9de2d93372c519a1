import { loadConfig } from '../../src/config';
import { refuseWebhookUrl, STRICT_OUTBOUND } from '../../src/http/outbound';

const INSECURE = { allowInsecure: true };

describe('a webhook URL registered by a partner, judged by its text', () => {
  it.each([
    ['a public https URL', 'https://partner.example.org/hooks/reminders?token=abc'],
    ['a public https URL on another port', 'https://partner.example.org:8443/hook'],
    ['a public IPv4 address', 'https://8.8.8.8/hook'],
    ['a public IPv6 address', 'https://[2001:4860:4860::8888]/hook'],
    ['a name that merely contains "localhost"', 'https://localhost.example.org/hook'],
  ])('%s is accepted', (_name, url) => {
    expect(refuseWebhookUrl(url, STRICT_OUTBOUND)).toBeUndefined();
  });

  it.each([
    ['not a URL', 'partner.example.org/hook', 'must be an absolute URL'],
    ['a relative URL', '/hooks/reminders', 'must be an absolute URL'],
    ['plain http', 'http://partner.example.org/hook', 'must be an https URL'],
    ['another scheme', 'ftp://partner.example.org/hook', 'must be an https URL'],
    [
      'a user and password',
      'https://user:secret@partner.example.org/hook',
      'must not carry a user name or password',
    ],
    [
      'a user alone',
      'https://user@partner.example.org/hook',
      'must not carry a user name or password',
    ],
    ['loopback', 'https://127.0.0.1/hook', 'internal address'],
    ['loopback elsewhere in 127/8', 'https://127.10.20.30/hook', 'internal address'],
    ['loopback written in hexadecimal', 'https://0x7f000001/hook', 'internal address'],
    ['loopback written as one decimal number', 'https://2130706433/hook', 'internal address'],
    ['loopback written in octal', 'https://0177.0.0.1/hook', 'internal address'],
    ['loopback written short', 'https://127.1/hook', 'internal address'],
    ['private 10/8', 'https://10.0.0.1/hook', 'internal address'],
    ['private 172.16/12', 'https://172.31.255.1/hook', 'internal address'],
    ['private 192.168/16', 'https://192.168.1.10/hook', 'internal address'],
    [
      'link-local: the cloud metadata service',
      'https://169.254.169.254/latest/meta-data',
      'internal address',
    ],
    ['CGNAT', 'https://100.64.0.1/hook', 'internal address'],
    ['multicast', 'https://224.0.0.1/hook', 'internal address'],
    ['unspecified', 'https://0.0.0.0/hook', 'internal address'],
    ['IPv6 loopback', 'https://[::1]/hook', 'internal address'],
    ['IPv6 unspecified', 'https://[::]/hook', 'internal address'],
    ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/hook', 'internal address'],
    ['IPv4-mapped IPv6 private', 'https://[::ffff:10.0.0.1]/hook', 'internal address'],
    ['IPv6 link-local', 'https://[fe80::1]/hook', 'internal address'],
    ['IPv6 unique-local (AWS metadata)', 'https://[fd00:ec2::254]/hook', 'internal address'],
    ['IPv6 multicast', 'https://[ff02::1]/hook', 'internal address'],
    ['localhost', 'https://localhost/hook', 'local or internal host'],
    [
      'localhost in capitals with a trailing dot',
      'https://LOCALHOST./hook',
      'local or internal host',
    ],
    ['a name under .localhost', 'https://api.localhost/hook', 'local or internal host'],
    [
      'the metadata service by name',
      'https://metadata.google.internal/computeMetadata/v1/',
      'local or internal host',
    ],
  ])('%s is refused', (_name, url, reason) => {
    expect(refuseWebhookUrl(url, STRICT_OUTBOUND)).toContain(reason);
  });

  it('a refusal never repeats the URL (it may carry a token)', () => {
    expect(refuseWebhookUrl('https://10.0.0.1/hook?token=s3cr3t', STRICT_OUTBOUND)).not.toContain(
      's3cr3t',
    );
  });
});

describe('the same URLs where insecure delivery is allowed (development and tests)', () => {
  it.each([
    ['plain http to loopback', 'http://127.0.0.1:4000/hook'],
    ['localhost', 'http://localhost:4000/hook'],
    ['a private address over https', 'https://10.0.0.1/hook'],
    ['a public https URL', 'https://partner.example.org/hook'],
  ])('%s is accepted', (_name, url) => {
    expect(refuseWebhookUrl(url, INSECURE)).toBeUndefined();
  });

  it.each([
    ['not a URL', 'nothing here', 'must be an absolute URL'],
    ['another scheme', 'file:///etc/passwd', 'must be an http or https URL'],
    [
      'a user and password',
      'http://user:secret@127.0.0.1/hook',
      'must not carry a user name or password',
    ],
  ])('%s is still refused', (_name, url, reason) => {
    expect(refuseWebhookUrl(url, INSECURE)).toBe(reason);
  });
});

describe('WEBHOOK_ALLOW_INSECURE', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['true', true],
  ])('%p → allowInsecure %p', (value, allowed) => {
    expect(loadConfig({ WEBHOOK_ALLOW_INSECURE: value }).outbound).toEqual({
      allowInsecure: allowed,
    });
  });

  it.each(['1', 'yes', 'TRUE', 'on'])(
    '%p is refused: a security setting is a deliberate true or false',
    (value) => {
      expect(() => loadConfig({ WEBHOOK_ALLOW_INSECURE: value })).toThrow(
        'WEBHOOK_ALLOW_INSECURE must be true or false',
      );
    },
  );
});
