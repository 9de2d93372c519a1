import fc from 'fast-check';
import {
  departmentOfCommune,
  isValidCommuneCode,
  isValidDepartmentCode,
  isValidNafCode,
  isValidRegionCode,
  isValidRna,
  isValidSiren,
  isValidSiret,
  LA_POSTE_SIREN,
  withLuhnCheckDigit,
} from '../../src/domain/structure-identifiers';

/** An independent Luhn oracle for the generators: the key that makes `digits` + key Luhn-valid. */
function luhnKey(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    // Once the key is appended, the last of `digits` is second from the right: it is doubled.
    const digit = Number(digits[digits.length - 1 - i]);
    const weighted = i % 2 === 0 ? digit * 2 : digit;
    sum += weighted > 9 ? weighted - 9 : weighted;
  }
  return (10 - (sum % 10)) % 10;
}

const digitString = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });

describe('SIREN', () => {
  it.each([
    ['732829320', 'SIREN of the SIRET example in INSEE and Wikipedia'],
    ['356000000', 'La Poste: its SIREN itself keeps the Luhn key'],
    ['123456782', 'constructed: 12345678 and its Luhn key'],
  ])('accepts %s (%s)', (siren) => {
    expect(isValidSiren(siren)).toBe(true);
  });

  it.each([
    ['732829321', 'Luhn key off by one'],
    ['73282932', '8 digits'],
    ['7328293200', '10 digits'],
    ['73282932A', 'a letter'],
    ['', 'empty'],
  ])('refuses %j (%s)', (siren) => {
    expect(isValidSiren(siren)).toBe(false);
  });
});

describe('SIRET', () => {
  it.each([
    [
      '73282932000074',
      'the example of INSEE and Wikipedia: 7th establishment of SIREN 732 829 320',
    ],
    ['35600000000048', 'La Poste head office: Luhn-valid, digit sum 26'],
    ['35600000000001', 'a La Poste establishment: digit sum 15, not Luhn-valid'],
    ['35600000000010', 'a La Poste establishment: digit sum 15, not Luhn-valid'],
    ['12345678200010', 'constructed: SIREN 123456782, NIC 0001 and its Luhn key'],
  ])('accepts %s (%s)', (siret) => {
    expect(isValidSiret(siret)).toBe(true);
  });

  it.each([
    ['7328293200007', '13 digits'],
    ['732829320000740', '15 digits'],
    ['7328293200007A', 'a letter'],
    ['ABCDEFGHIJKLMN', 'letters only'],
    ['732 829 320 00074', 'spaces: callers normalise first'],
    ['７３２８２９３２０００７４', 'full-width digits'],
    ['', 'empty'],
    ['73282932000075', 'one-digit typo of 73282932000074 in the key'],
    ['73282932100074', 'one-digit typo of 73282932000074 in the NIC'],
    ['73282932000047', 'last two digits of 73282932000074 swapped'],
    ['12345678901234', 'not Luhn-valid'],
    ['35600000000049', 'one-digit typo of the La Poste head office: digit sum 27'],
    ['35600000000014', 'La Poste, Luhn-valid but digit sum 19: Luhn does not save it'],
    ['35600000012340', 'La Poste, Luhn-valid but digit sum 24'],
  ])('refuses %j (%s)', (siret) => {
    expect(isValidSiret(siret)).toBe(false);
  });

  it('checks the examples against the rules they claim to follow', () => {
    const digitSum = (text: string) => [...text].reduce((sum, digit) => sum + Number(digit), 0);
    expect(luhnKey('7328293200007')).toBe(4);
    expect(luhnKey('3560000000004')).toBe(8);
    expect(digitSum('35600000000048')).toBe(26);
    expect(digitSum('35600000000001') % 5).toBe(0);
    expect(luhnKey('3560000000001')).toBe(4);
    expect(digitSum('35600000000014')).toBe(19);
  });

  it('accepts every non-La-Poste SIRET that carries its Luhn key', () => {
    fc.assert(
      fc.property(digitString(13), (body) => {
        fc.pre(!body.startsWith('356000000'));
        expect(isValidSiret(body + luhnKey(body))).toBe(true);
      }),
    );
  });

  it('refuses a Luhn-valid non-La-Poste SIRET with any single digit changed', () => {
    fc.assert(
      fc.property(
        digitString(13),
        fc.nat(13),
        fc.integer({ min: 1, max: 9 }),
        (body, position, shift) => {
          fc.pre(!body.startsWith('356000000'));
          const siret = body + luhnKey(body);
          const changedDigit = String((Number(siret[position]) + shift) % 10);
          const typo = siret.slice(0, position) + changedDigit + siret.slice(position + 1);
          // A typo in the SIREN can land on La Poste's, where the digit-sum rule applies instead (see below).
          fc.pre(!typo.startsWith('356000000'));
          expect(isValidSiret(typo)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('cannot catch a typo that turns a SIRET into a valid La Poste one', () => {
    expect(isValidSiret('55600000000001')).toBe(true);
    expect(isValidSiret('35600000000001')).toBe(true);
  });
});

describe('RNA number', () => {
  it.each(['W751234567', 'W000000000', 'W751515517'])('accepts %s', (rna) => {
    expect(isValidRna(rna)).toBe(true);
  });

  it.each([
    'w751234567',
    'W75123456',
    'W7512345678',
    '751234567',
    'W75123456A',
    'X751234567',
    ' W751234567',
    '',
  ])('refuses %j', (rna) => {
    expect(isValidRna(rna)).toBe(false);
  });
});

describe('NAF code', () => {
  it.each([
    ['88.99B', 'other social action without accommodation n.e.c.'],
    ['62.01Z', 'computer programming'],
    ['94.99Z', 'other membership organisations n.e.c.: most associations'],
  ])('accepts %s (%s)', (code) => {
    expect(isValidNafCode(code)).toBe(true);
  });

  it.each([
    '8899B',
    '88.99b',
    '88,99B',
    '88.9B',
    '88.999B',
    '88.99',
    '8.899B',
    '88.99BB',
    'AB.CDE',
    '',
  ])('refuses %j', (code) => {
    expect(isValidNafCode(code)).toBe(false);
  });
});

describe('INSEE commune code', () => {
  it.each([
    ['75056', 'Paris'],
    ['2A004', 'Ajaccio'],
    ['2B033', 'Bastia'],
    ['97411', 'Saint-Denis (La Réunion)'],
    ['01001', "L'Abergement-Clémenciat"],
  ])('accepts %s (%s)', (code) => {
    expect(isValidCommuneCode(code)).toBe(true);
  });

  it.each(['00000', '7505', '750560', '2a004', '2C004', '2A04', 'A2004', '75 056', '7505A', ''])(
    'refuses %j',
    (code) => {
      expect(isValidCommuneCode(code)).toBe(false);
    },
  );

  it.each([
    ['75056', '75'],
    ['2A004', '2A'],
    ['2B033', '2B'],
    ['01001', '01'],
    ['97411', '974'],
    ['97101', '971'],
    ['97611', '976'],
  ])('places commune %s in department %s', (commune, department) => {
    expect(departmentOfCommune(commune)).toBe(department);
    expect(isValidDepartmentCode(departmentOfCommune(commune))).toBe(true);
  });

  it.each(['00000', '2C004', 'abc', ''])('refuses to place %j in a department', (code) => {
    expect(() => departmentOfCommune(code)).toThrow(RangeError);
  });
});

describe('department code', () => {
  it.each([
    '01',
    '09',
    '19',
    '21',
    '75',
    '95',
    '2A',
    '2B',
    '971',
    '972',
    '973',
    '974',
    '975',
    '976',
  ])('accepts %s', (code) => {
    expect(isValidDepartmentCode(code)).toBe(true);
  });

  it.each([
    '00',
    '20',
    '96',
    '99',
    '1',
    '001',
    '2a',
    '2C',
    '970',
    '977',
    '978',
    '984',
    '9741',
    'AB',
    '',
  ])('refuses %j', (code) => {
    expect(isValidDepartmentCode(code)).toBe(false);
  });

  it('accepts exactly 96 metropolitan codes and 6 overseas ones', () => {
    const candidates = [
      ...Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0')),
      ...Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0')),
      '2A',
      '2B',
    ];
    expect(candidates.filter(isValidDepartmentCode)).toHaveLength(94 + 2 + 6);
  });
});

describe('region code', () => {
  it.each([
    '01',
    '02',
    '03',
    '04',
    '06',
    '11',
    '24',
    '27',
    '28',
    '32',
    '44',
    '52',
    '53',
    '75',
    '76',
    '84',
    '93',
    '94',
  ])('accepts %s', (code) => {
    expect(isValidRegionCode(code)).toBe(true);
  });

  it.each(['05', '1', '011', '21', '26', '31', '41', '42', '54', '72', '82', '83', '91', '00', ''])(
    'refuses %j',
    (code) => {
      expect(isValidRegionCode(code)).toBe(false);
    },
  );
});

describe('withLuhnCheckDigit', () => {
  it('appends the digit that makes 13 digits a valid SIRET (73282932000074 from 7328293200007)', () => {
    expect(withLuhnCheckDigit('7328293200007')).toBe('73282932000074');
  });

  it('always yields a Luhn-valid SIRET outside La Poste', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[1-9][0-9]{12}$/).filter((body) => !body.startsWith(LA_POSTE_SIREN)),
        (body) => {
          expect(isValidSiret(withLuhnCheckDigit(body))).toBe(true);
        },
      ),
    );
  });
});
