import type { Rng } from './random.js';

/**
 * Names, places and companies for the demo. E-mail addresses use only the reserved
 * example.com/.net/.org domains and `.example` company domains (RFC 2606), so nothing the
 * demo company "sends" can ever reach a real person.
 */

const FIRST = [
  'Anna', 'Ben', 'Chloé', 'David', 'Elif', 'Farah', 'Gustav', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Lena', 'Mateo', 'Nadia', 'Oscar',
  'Priya', 'Quentin', 'Rosa', 'Sami', 'Tess', 'Umar', 'Vera', 'Wei', 'Ximena', 'Yusuf', 'Zoe', 'Amara', 'Bruno', 'Carmen', 'Daniel',
  'Emma', 'Felix', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Keiko', 'Liam', 'Maya', 'Noah', 'Olivia', 'Pablo', 'Rania', 'Sofia', 'Theo',
  'Uma', 'Victor', 'Willa', 'Yara', 'Aiden', 'Beatriz', 'Chen', 'Dara', 'Eero', 'Fatima', 'Giulia', 'Henrik', 'Isabel', 'Jamal',
  'Klara', 'Lucas', 'Mila', 'Nils', 'Omar', 'Paula', 'Ravi', 'Sara', 'Tomás', 'Ulla', 'Wanda', 'Zara', 'Arjun', 'Bianca', 'Camille',
];

const LAST = [
  'Andersen', 'Brooks', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Hughes', 'Ivanova', 'Jensen', 'Kowalski', 'Lindqvist',
  'Martin', 'Nakamura', 'Okafor', 'Patel', 'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Ulrich', 'Varga', 'Walker', 'Yilmaz', 'Zhang',
  'Ahmed', 'Bauer', 'Costa', 'Dimitrov', 'Evans', 'Fernandes', 'Gallagher', 'Haddad', 'Iversen', 'Jovanović', 'Khan', 'Laurent',
  'Moreau', 'Novak', "O'Brien", 'Petrov', 'Ramírez', 'Santos', 'Takahashi', 'Vogel', 'Weber', 'Young', 'Bergström', 'Chowdhury',
  'de Vries', 'Horvat', 'Kim', 'Lopez', 'Mensah', 'Nguyen', 'Olsen', 'Pereira', 'Reyes', 'Svensson', 'Thompson', 'van Dijk',
];

export interface Country {
  code: string;
  weight: number;
  locale: string;
  /** Hours ahead of UTC, for the time of day people shop. */
  utcOffset: number;
  /** Multiplier on the late-delivery rate (carrier quality where the parcel goes). */
  lateDelivery: number;
}

export const COUNTRIES: readonly Country[] = [
  { code: 'US', weight: 0.34, locale: 'en-US', utcOffset: -5, lateDelivery: 1.0 },
  { code: 'GB', weight: 0.14, locale: 'en-GB', utcOffset: 0, lateDelivery: 0.9 },
  { code: 'DE', weight: 0.12, locale: 'de-DE', utcOffset: 1, lateDelivery: 0.7 },
  { code: 'FR', weight: 0.08, locale: 'fr-FR', utcOffset: 1, lateDelivery: 1.1 },
  { code: 'CA', weight: 0.07, locale: 'en-CA', utcOffset: -5, lateDelivery: 1.6 },
  { code: 'NL', weight: 0.05, locale: 'nl-NL', utcOffset: 1, lateDelivery: 0.6 },
  { code: 'ES', weight: 0.05, locale: 'es-ES', utcOffset: 1, lateDelivery: 1.3 },
  { code: 'IT', weight: 0.05, locale: 'it-IT', utcOffset: 1, lateDelivery: 1.5 },
  { code: 'SE', weight: 0.04, locale: 'sv-SE', utcOffset: 1, lateDelivery: 0.8 },
  { code: 'AU', weight: 0.06, locale: 'en-AU', utcOffset: 10, lateDelivery: 2.2 },
];

const COMPANY_A = ['Blue', 'North', 'Bright', 'Silver', 'Green', 'Harbor', 'Summit', 'Copper', 'Maple', 'Atlas', 'Pine', 'Lumen', 'Oak', 'River', 'Stone', 'Nova'];
const COMPANY_B = ['Fern', 'Line', 'Works', 'Bridge', 'Field', 'Labs', 'Point', 'Studio', 'Craft', 'Lane', 'Forge', 'Wave', 'Leaf', 'Gate', 'Peak', 'Yard'];
const COMPANY_C = ['Design', 'Architects', 'Consulting', 'Media', 'Dental', 'Cafés', 'Schools', 'Logistics', 'Software', 'Library', 'Hotels', 'Clinic', 'Agency', 'Bakery'];
const INDUSTRIES: Record<string, string> = {
  Design: 'creative services',
  Architects: 'architecture',
  Consulting: 'professional services',
  Media: 'media',
  Dental: 'healthcare',
  Cafés: 'hospitality',
  Schools: 'education',
  Logistics: 'logistics',
  Software: 'software',
  Library: 'education',
  Hotels: 'hospitality',
  Clinic: 'healthcare',
  Agency: 'marketing',
  Bakery: 'food & beverage',
};

export interface Person {
  firstName: string;
  lastName: string;
  name: string;
  email: string;
  country: Country;
}

function ascii(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

/** A person; `domain` is their company's when they buy for one. */
export function person(rng: Rng, domain?: string): Person {
  const firstName = rng.pick(FIRST);
  const lastName = rng.pick(LAST);
  const country = rng.pickWeighted(COUNTRIES, COUNTRIES.map((c) => c.weight));
  const f = ascii(firstName);
  const l = ascii(lastName);
  const local = domain
    ? rng.pick([`${f}.${l}`, `${f[0]}${l}`, f])
    : rng.pick([`${f}.${l}`, `${f}${l}${rng.between(1, 99)}`, `${f[0]}.${l}`, `${f}_${l}`, `${l}.${f}${rng.between(70, 99)}`]);
  const mail = domain ?? rng.pick(['example.com', 'example.net', 'example.org']);
  return { firstName, lastName, name: `${firstName} ${lastName}`, email: `${local}@${mail}`, country };
}

export interface Company {
  name: string;
  industry: string;
  employees: number;
  domain: string;
}

export function company(rng: Rng): Company {
  const a = rng.pick(COMPANY_A);
  const b = rng.pick(COMPANY_B);
  const c = rng.pick(COMPANY_C);
  const employees = Math.max(3, Math.round(Math.exp(rng.uniform(Math.log(5), Math.log(800)))));
  return { name: `${a}${b.toLowerCase()} ${c}`, industry: INDUSTRIES[c] ?? 'other', employees, domain: `${ascii(a + b)}.example` };
}
