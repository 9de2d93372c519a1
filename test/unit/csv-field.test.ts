/** The CSV field of the report and the export bundle: RFC 4180 quoting, and no formula a spreadsheet would run (OWASP CSV injection). */
import { csvField, reportCsv } from '../../src/http/csv';

describe('csvField', () => {
  it.each([
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['+33 1 23', "'+33 1 23"],
    ['-cmd', "'-cmd"],
    ['-1+1', "'-1+1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tfoo', "'\tfoo"],
    ['\rfoo', `"'\rfoo"`],
  ])('neutralises %j as text', (value, written) => {
    expect(csvField(value)).toBe(written);
  });

  it.each(['-12.50', '-3', '12.50', '0', '0.000001'])('leaves the number %j as it is', (value) => {
    expect(csvField(value)).toBe(value);
  });

  it('quotes commas, quotes and line ends, and leaves plain text alone', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('Atelier du Coin')).toBe('Atelier du Coin');
    expect(csvField("l'atelier")).toBe("l'atelier");
  });

  it('is the one the report CSV uses', () => {
    expect(reportCsv({ '@x': 'y', a: '=1+2', balance: '-4.00' })).toBe(
      "indicator,value\r\n'@x,y\r\na,'=1+2\r\nbalance,-4.00\r\n",
    );
  });
});
