import type { Rng } from './random.js';

/**
 * Wording for the demo's feedback: tickets, reviews, survey comments, ideas, interview and
 * visit notes. Each need or defect has several phrasings with varying detail, so theme
 * discovery has to find them by meaning rather than by identical strings.
 *
 * Templates: `{a|b|c}` picks one alternative (nesting allowed, `{|x}` makes x optional) and
 * `@name` inserts a variable.
 */

export type Vars = Readonly<Record<string, string>>;

/** Expands a template with the given variables. */
export function expand(template: string, rng: Rng, vars: Vars = {}): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === '{') {
      const alternatives: string[] = [];
      let depth = 0;
      let start = i + 1;
      let j = i + 1;
      for (; j < template.length; j++) {
        const c = template[j];
        if (c === '{') depth++;
        else if (c === '}') {
          if (depth === 0) break;
          depth--;
        } else if (c === '|' && depth === 0) {
          alternatives.push(template.slice(start, j));
          start = j + 1;
        }
      }
      alternatives.push(template.slice(start, j));
      out += expand(rng.pick(alternatives), rng, vars);
      i = j + 1;
    } else if (ch === '@') {
      const m = /^@([a-z_0-9]+)/.exec(template.slice(i, i + 32));
      if (m) {
        const name = m[1]!; // the group is not optional, so it is set whenever m is
        const v = vars[name];
        if (v === undefined) throw new Error(`template variable @${name} is missing`);
        out += v;
        i += m[0].length;
      } else {
        out += ch;
        i++;
      }
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/**
 * Final touches on generated text: single spaces, no "the The Lighthouse Keeper", no doubled
 * punctuation, and a capital letter at the start of every sentence.
 */
export function tidy(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/\b(?:the|this|my|The|This|My) (The [A-Z])/g, '$1')
    .replace(/ ([.,!?;:])/g, '$1')
    .replace(/([!?])\./g, '$1')
    .replace(/\?!/g, '?')
    .replace(/\.\./g, '.')
    .replace(/(^|[.!?] )([a-z])/g, (_m, pre: string, ch: string) => pre + ch.toUpperCase())
    .trim();
}

export type TicketType = 'defect' | 'question' | 'billing' | 'delivery' | 'account' | 'feature_request';
export type TicketCause = 'bug' | 'ux' | 'documentation' | 'carrier' | 'warehouse' | 'payment' | 'policy' | 'user_error' | 'missing_feature';

export interface IssueSpec {
  type: TicketType;
  causes: readonly TicketCause[];
  priority: readonly ('low' | 'normal' | 'high' | 'urgent')[];
  templates: readonly string[];
}

/** Defects that happen to an order; the ones customers churn over. */
export type OrderDefect = 'delivery_late' | 'item_damaged' | 'wrong_item' | 'double_charge';
/** Issues that are not tied to one order. */
export type GeneralIssue =
  | 'password_reset'
  | 'app_crash_checkout'
  | 'coupon_not_applying'
  | 'search_irrelevant'
  | 'return_label'
  | 'tracking_question'
  | 'change_address'
  | 'invoice_request';

const GREETING = '{|Hi, |Hello, |Hi there, |Good morning, |Dear support, }';
const THANKS = '{| Thanks.| Thank you!| Thanks, @first| Regards, @first| Cheers}';

export const ORDER_DEFECTS: Record<OrderDefect, IssueSpec> = {
  delivery_late: {
    type: 'delivery',
    causes: ['carrier'],
    priority: ['normal', 'normal', 'high'],
    templates: [
      `${GREETING}my order @order {still hasn't arrived|has not shown up yet|is nowhere to be seen}. {It was supposed to arrive|The estimate said it would be here|Tracking promised delivery} @days days ago{.|!} {Can you tell me where it is?|What is going on?|Please check with the carrier.|I need it for a birthday this weekend.}${THANKS}`,
      `Order @order is @days days late{.|!!} {The tracking page hasn't updated since it left the warehouse.|Tracking just says "in transit".|The courier keeps rescheduling.}{| This is the second time this happens.| Really disappointed.}${THANKS}`,
      `{Where is my parcel?|Still waiting for my delivery.|Delivery is late.} {I ordered|I bought} @product {almost two weeks ago|last week with express shipping|@days days before the promised date} and {nothing has arrived|it's still not here|the courier has no idea where it is}.${THANKS}`,
      `${GREETING}{the|my} @product {was promised for|should have come on} {Tuesday|Friday|last weekend} and {it's still not here|the carrier says it's delayed again|nobody can tell me when it will come}. {Very frustrating.|Not the first time.|I might cancel.}`,
      `{Late delivery|Delayed parcel} for order @order. {Paid for fast shipping and waited @days extra days.|It took @days days longer than promised.}{| I'd like the shipping fee back.}`,
    ],
  },
  item_damaged: {
    type: 'delivery',
    causes: ['warehouse', 'carrier'],
    priority: ['normal', 'high'],
    templates: [
      `${GREETING}the @product arrived {broken|damaged|with a cracked casing|with a big dent}. {The box was crushed.|Packaging was far too thin.|There was no padding at all.} {I'd like a replacement.|Please send a new one.|Can I get a refund?}${THANKS}`,
      `{Damaged item|Broken on arrival} — order @order. {The @product is scratched all over.|Half of the @product was in pieces.|The @product doesn't turn on, looks like it was dropped.}{| Photos attached.}`,
      `{Unfortunately|Sadly} my @product {came damaged|was broken when I opened the parcel}. {What do I do now?|How do I get a replacement?}`,
    ],
  },
  wrong_item: {
    type: 'delivery',
    causes: ['warehouse'],
    priority: ['normal'],
    templates: [
      `${GREETING}I ordered @product but {received|got} {something completely different|the wrong item|someone else's order}. Order @order.${THANKS}`,
      `{Wrong item in my parcel.|You sent me the wrong product.} {Instead of|In place of} the @product there was {a kitchen towel set|a phone case|a children's book}. {Please swap it.|How do I send it back?}`,
    ],
  },
  double_charge: {
    type: 'billing',
    causes: ['payment'],
    priority: ['high', 'urgent'],
    templates: [
      `${GREETING}I was charged twice for order @order{.|!} {My bank statement shows two payments of @amount.|Two identical charges of @amount on my card.} {Please refund the duplicate.|Please fix this asap.}${THANKS}`,
      `{Double charge|Charged two times} for one order (@order). {I only placed it once.|The checkout froze and now I see two payments.} {Refund please.|When will I get my money back?}`,
      `{My card was billed twice|I paid @amount twice} for @order. {This is not ok.|Can someone look into it today?}`,
    ],
  },
};

export const GENERAL_ISSUES: Record<GeneralIssue, IssueSpec> = {
  password_reset: {
    type: 'account',
    causes: ['bug'],
    priority: ['normal', 'high'],
    templates: [
      `${GREETING}{I can't log in|I'm locked out of my account|I can't get into my account} — the password reset email {never arrives|doesn't come through|is not in my inbox or spam}.${THANKS}`,
      `{Password reset is broken.|Reset link never comes.} {Tried three times today.|Waited an hour, still nothing.}{| Please help.}`,
      `{Hello, |}I {requested|asked for} a new password {several times|twice} but {no email came|the link never shows up}. {Is something wrong on your side?|Can you reset it for me?}`,
    ],
  },
  app_crash_checkout: {
    type: 'defect',
    causes: ['bug'],
    priority: ['high', 'urgent'],
    templates: [
      `The app {crashes|closes itself|freezes} {every time|as soon as} I {tap "Pay"|go to checkout|try to pay}{.| on my iPhone.| on Android.} {Version 4.2.|Since the last update.|Had to finish the order on the website.}`,
      `${GREETING}{checkout in the app is broken|I can't pay in the app}: it {crashes|goes blank} after {I choose a card|the delivery step}.${THANKS}`,
      `{App crash at checkout.|Crash when paying in the mobile app.} {Reinstalled, same thing.|Happens every time since the update.}`,
    ],
  },
  coupon_not_applying: {
    type: 'defect',
    causes: ['ux', 'bug'],
    priority: ['low', 'normal'],
    templates: [
      `{My|The} {discount|promo|voucher} code {isn't accepted|doesn't work|says invalid} at checkout{, even though it's still valid|}. {Where exactly do I enter it?|I tried three times.|The box for the code is hard to find.}`,
      `${GREETING}{I couldn't apply my coupon|the coupon field doesn't take my code}. {Can you apply the discount to order @order?|Can you refund the difference?}${THANKS}`,
    ],
  },
  search_irrelevant: {
    type: 'defect',
    causes: ['ux'],
    priority: ['low'],
    templates: [
      `Search {is useless|gives strange results|doesn't understand what I type}: {typing|searching for} "@query" shows {completely unrelated products|kitchen towels|nothing relevant}.`,
      `{I couldn't find|It's hard to find} @query {with the search bar|using search}. {The filters don't help either.|Had to browse the category pages instead.}`,
    ],
  },
  return_label: {
    type: 'question',
    causes: ['documentation', 'policy'],
    priority: ['low', 'normal'],
    templates: [
      `How do I return @product? {I can't find the return label.|The help page doesn't explain where the return label is.|The returns page links to an error.}`,
      `${GREETING}{I want to send back|I'd like to return} the @product from order @order. {Is return shipping free?|Do I need to print something?|Where's the label?}${THANKS}`,
    ],
  },
  tracking_question: {
    type: 'question',
    causes: ['documentation'],
    priority: ['low'],
    templates: [
      `{How can I|Where do I} track my order @order? {The email had no tracking link.|I can't find it in my account.}`,
      `{Is there a tracking number for|Can you send tracking for} order @order?${THANKS}`,
    ],
  },
  change_address: {
    type: 'account',
    causes: ['ux', 'user_error'],
    priority: ['normal'],
    templates: [
      `I need to change the delivery address on order @order{ — I moved last week|}. {The site won't let me edit it.|There's no option in my account.}`,
      `${GREETING}{wrong address on my order|I typed the wrong postcode} (@order). {Can you correct it before it ships?|Please update it.}${THANKS}`,
    ],
  },
  invoice_request: {
    type: 'billing',
    causes: ['documentation', 'policy'],
    priority: ['low', 'normal'],
    templates: [
      `Could you send {a VAT invoice|an invoice with our company name} for order @order{| for our accounting}?${THANKS}`,
      `${GREETING}{our finance team needs|we need} {a proper invoice|an invoice with our VAT number} for @order.{| Thanks.}`,
    ],
  },
};

export type IdeaKey =
  | 'wishlist_export'
  | 'gift_cards'
  | 'price_alerts'
  | 'dark_mode'
  | 'live_tracking'
  | 'pickup_lockers'
  | 'plastic_free'
  | 'reorder'
  | 'pay_later'
  | 'compare_products'
  | 'audiobook_samples'
  | 'consolidated_invoice'
  | 'team_accounts';

export interface IdeaSpec {
  /** Relative frequency among consumers; B2B ideas are asked for by business accounts. */
  weight: number;
  b2b: boolean;
  phrasings: readonly string[];
}

export const IDEAS: Record<IdeaKey, IdeaSpec> = {
  wishlist_export: {
    weight: 0.8,
    b2b: false,
    phrasings: [
      'I wish I could export my wishlist',
      'Please let me download my wishlist as a {CSV|spreadsheet|PDF}',
      'It would be great to {share my wishlist with my family|send my wish list to friends} or export it',
      'Can you add a way to print or export the wish list?',
      '{Exporting|Saving} the wishlist to a file would help me plan {gifts|birthday presents}',
    ],
  },
  gift_cards: {
    weight: 1.0,
    b2b: false,
    phrasings: [
      'please add gift cards',
      'Do you sell gift vouchers? I would buy them for {birthdays|Christmas|my nieces}',
      'A digital gift card I can email to a friend would be great',
      'Gift cards please! My family never knows what to get me',
      'Would love to be able to buy a gift certificate{| for a colleague}',
    ],
  },
  price_alerts: {
    weight: 0.7,
    b2b: false,
    phrasings: [
      'Notify me when something on my wishlist drops in price',
      'Price drop alerts would be {amazing|really useful}',
      'Could you email me when an item {goes on sale|gets cheaper}?',
      "I'd like an alert when the price of a saved item falls",
    ],
  },
  dark_mode: {
    weight: 0.3,
    b2b: false,
    phrasings: [
      'Dark mode in the app please',
      'The app is too bright at night — please add a dark theme',
      'Any plans for a dark mode{| in the iOS app}?',
    ],
  },
  live_tracking: {
    weight: 0.45,
    b2b: false,
    phrasings: [
      'Show live delivery tracking on a map',
      'I want to see where my parcel is in real time',
      'A delivery time window on the day would help a lot',
      'Let me follow the courier live{| like food delivery apps do}',
    ],
  },
  pickup_lockers: {
    weight: 0.6,
    b2b: false,
    phrasings: [
      'Let me deliver to a parcel locker or pickup point',
      "Click & collect or pickup points would be handy since I'm never home",
      'Please add delivery to {pickup lockers|parcel lockers}',
      'Could I choose a {collection point|local shop} instead of home delivery?',
    ],
  },
  plastic_free: {
    weight: 0.55,
    b2b: false,
    phrasings: [
      'Please use less plastic in the packaging',
      'Plastic-free packaging would make me order more',
      'Too much bubble wrap — {can you switch to paper?|please go plastic free}',
      'A box inside a box inside plastic… greener packaging please',
    ],
  },
  reorder: {
    weight: 0.5,
    b2b: false,
    phrasings: [
      'One-click reorder of a past order would save time',
      "Add a 'buy again' button to my order history",
      'I reorder the same {coffee|ink|notebooks} every month, make it easier',
    ],
  },
  pay_later: {
    weight: 0.35,
    b2b: false,
    phrasings: [
      'Option to pay in instalments for bigger items',
      'Please add buy now, pay later',
      'Split payments for {electronics|expensive items} would help',
    ],
  },
  compare_products: {
    weight: 0.25,
    b2b: false,
    phrasings: [
      'A side-by-side comparison of two products',
      'Let me compare the specs of {headphones|monitors|speakers} next to each other',
      'A compare button on product pages would be useful',
    ],
  },
  audiobook_samples: {
    weight: 0.15,
    b2b: false,
    phrasings: ['Let me listen to a sample before buying an audiobook', 'Audiobook previews please', 'A short preview of the narrator would help me choose audiobooks'],
  },
  consolidated_invoice: {
    weight: 1.0,
    b2b: true,
    phrasings: [
      'A monthly consolidated invoice for our company account',
      'We need one invoice per month instead of one per order',
      'Let us download all invoices for a quarter at once',
      'Our accountant asks for a single {monthly|combined} invoice',
    ],
  },
  team_accounts: {
    weight: 0.8,
    b2b: true,
    phrasings: [
      'Let several colleagues order under one company account',
      'A shared cart with an approval step for team purchases',
      'Multiple users on our business account{| with a spending limit}',
    ],
  },
};

export const IDEA_KEYS = Object.keys(IDEAS) as IdeaKey[];

/** A portal-style idea submission, e.g. "Feature request: please add gift cards — thanks!". */
export function ideaText(idea: IdeaKey, rng: Rng): string {
  const core = expand(rng.pick(IDEAS[idea].phrasings), rng);
  const body = expand('{|Suggestion: |Feature request: |Idea: |Hi! |Small wish: }', rng) + core;
  return tidy(body + expand('{.|!| — thanks!|. Keep up the good work.|. That would make my life easier.}', rng));
}

/** The idea as it appears inside a longer comment (lower-cased first letter, no closing). */
export function ideaClause(idea: IdeaKey, rng: Rng): string {
  const core = expand(rng.pick(IDEAS[idea].phrasings), rng);
  return /^I\b/.test(core) ? core : core.charAt(0).toLowerCase() + core.slice(1);
}

export function issueText(spec: IssueSpec, rng: Rng, vars: Vars): string {
  return tidy(expand(rng.pick(spec.templates), rng, vars));
}

/** Product complaints specific to the catalogue's lemons, so reviews cluster around them. */
const LEMON_COMPLAINTS: Record<string, readonly string[]> = {
  'HK-1002': ['stopped frothing after {two|three} weeks', 'the motor died after a month', 'leaks and the whisk came loose'],
  'VG-1009': ['gets really hot while charging', 'only charges one controller at a time', 'stopped charging after a month'],
  'EL-1004': ['the left earbud keeps disconnecting', 'battery lasts barely an hour', 'one earbud stopped working'],
  'PC-1004': ['disconnects my monitor randomly', 'gets very hot and drops the connection', 'the HDMI port stopped working'],
  'GO-1002': ['burst after a few uses', 'started leaking at the connector', 'shrank back and split in the first month'],
  'TG-1008': ['the remote stopped working after a day', 'battery cover broke immediately'],
  'SF-1007': ['the strap broke after two weeks', 'the step count is way off'],
  'VG-1005': ['the right stick drifts', 'connection drops mid-game'],
  'EL-1003': ['the case hinge feels loose'],
};

interface Aspects {
  good: readonly string[];
  bad: readonly string[];
}

/** Per category key; `home` is declared so that it can serve as the fallback. */
const ASPECTS: { readonly home: Aspects; readonly [categoryKey: string]: Aspects } = {
  books: { good: ['beautifully written', 'a real page-turner', 'lovely print quality'], bad: ['the binding came apart', 'dull after the first chapters', 'tiny print'] },
  ebooks: { good: ['great narrator', 'easy download', 'good value'], bad: ['the narrator is monotone', 'the download kept failing', 'formatting is messy'] },
  music: { good: ['the sound quality is superb', 'great pressing', 'a joy to listen to'], bad: ['the vinyl is warped', 'crackles a lot', 'thin sound'] },
  movies: { good: ['a stunning picture', 'great extras', 'the whole family loved it'], bad: ['the disc skips', 'no subtitles', 'poor transfer'] },
  games: { good: ['hours of fun', 'great multiplayer', 'the kids love it'], bad: ['too short', 'buggy', 'loading times are long'] },
  electronics: { good: ['battery life is excellent', 'easy to set up', 'feels premium'], bad: ['the battery drains fast', 'the app is confusing', 'feels cheap'] },
  computers: { good: ['works out of the box', 'solid build', 'fast'], bad: ['the drivers are a pain', 'stopped working', 'flimsy'] },
  home: { good: ['looks great in our kitchen', 'easy to clean', 'well made'], bad: ['rusted quickly', 'hard to clean', 'smaller than the photos'] },
  garden: { good: ['sturdy', 'easy to assemble', 'survived a storm'], bad: ['faded in the sun', 'parts were missing', 'wobbly'] },
  toys: { good: ['the kids play with it every day', 'great quality', 'fun for the whole family'], bad: ['pieces missing', 'broke quickly', 'instructions are unclear'] },
  sports: { good: ['comfortable', 'great grip', 'does exactly what it should'], bad: ['smells of rubber', 'slippery', 'tore after a few uses'] },
  stationery: { good: ['lovely paper', 'writes smoothly', 'beautiful design'], bad: ['ink bleeds through', 'the pen leaks', 'cheap paper'] },
};

/** A review whose tone matches its 1–5 rating; lemons draw their own recurring complaint. */
export function reviewText(rating: number, product: { id: string; name: string }, categoryKey: string, rng: Rng, defect: OrderDefect | null): string {
  const aspects = ASPECTS[categoryKey] ?? ASPECTS.home;
  const lemon = LEMON_COMPLAINTS[product.id];
  const vars = { product: product.name, good: rng.pick(aspects.good), bad: lemon && rating <= 3 ? expand(rng.pick(lemon), rng) : rng.pick(aspects.bad) };
  const late = defect === 'delivery_late' ? expand(' {Delivery took far too long though.|Shipping was really slow.|Arrived a week late.}', rng) : '';
  const broken = defect === 'item_damaged' ? expand(' {It arrived damaged.|The box was crushed on arrival.}', rng) : '';
  switch (rating) {
    case 5:
      return tidy(expand('{Absolutely love|Really happy with|Delighted with|So pleased with} {this|the} @product{!|.} {It is @good.|@good, exactly as described.|Better than I expected — @good.}{| Would buy again.| Highly recommend.| Five stars.}', rng, vars) + late);
    case 4:
      return tidy(expand('{Very good.|Solid purchase.|Nice.|Good.} {The @product is @good.|The @product is good value for the price.|The @product does the job well.}{| Packaging could be better.| Minus one star for the price.| Not perfect, but close.}', rng, vars) + late + broken);
    case 3:
      return tidy(expand("{It's okay.|Average.|Mixed feelings.} {The @product works but @bad.|@good, but @bad.|Not bad, not great: @bad.}", rng, vars) + late + broken);
    case 2:
      return tidy(expand('{Disappointed.|Not great.|Expected more.} {The @product: @bad.|@bad.|Honestly @bad.}{| Would not recommend.| Not worth the price.}', rng, vars) + late + broken);
    default:
      return tidy(expand('{Terrible.|Awful.|Waste of money.|Very poor.} {The @product: @bad.|@bad.|@bad, and support was slow.}{| Returning it.| Never again.| Avoid.}', rng, vars) + late + broken);
  }
}

/** An NPS comment that fits the score; may mention a defect they suffered and an idea. */
export function surveyText(score: number, rng: Rng, pain: OrderDefect | GeneralIssue | null, idea: IdeaKey | null): string {
  let text: string;
  if (score >= 9) {
    text = expand('{Great selection and fast delivery.|Love the shop, I always find what I need.|Customer service was brilliant when I had an issue.|Easy to use, good prices.|Reliable and friendly.|Best place for books and music.}', rng);
  } else if (score >= 7) {
    text = expand('{Good overall, but delivery could be faster.|Prices are okay, the app is a bit clunky.|Fine, nothing special.|Good range, search could be better.|Mostly happy.|Decent, but shipping costs add up.}', rng);
  } else {
    text = expand('{Delivery is unreliable.|Too many late parcels.|Support took ages to reply.|Not impressed lately.|Prices went up and service went down.|Hard to find things.}', rng);
  }
  if (pain !== null) text += ` ${PAIN_SENTENCES[pain] ? expand(PAIN_SENTENCES[pain], rng) : ''}`;
  if (idea !== null) text += expand(' {One wish:|Suggestion:|Idea:|Also:|What I miss:} ', rng) + expand(rng.pick(IDEAS[idea].phrasings), rng) + '.';
  return tidy(text);
}

const PAIN_SENTENCES: Partial<Record<OrderDefect | GeneralIssue, string>> = {
  delivery_late: '{My last order arrived late.|The parcel came a week late.|Deliveries keep being late.}',
  item_damaged: '{My last item arrived broken.|Things arrive damaged, the packaging is too thin.}',
  wrong_item: '{I got the wrong item once.|You sent me someone else’s order.}',
  double_charge: '{I was charged twice and it took weeks to fix.|The double charge on my card was not ok.}',
  password_reset: '{Password reset emails never arrive.|Logging in is a pain.}',
  app_crash_checkout: '{The app crashed at checkout.|Paying in the app is broken.}',
  coupon_not_applying: '{My discount code did not work.|Coupons are hard to use.}',
  search_irrelevant: '{Search results are poor.|Search never finds what I want.}',
};

/** A sentence naming a pain for interview and visit notes. */
export function painNote(pain: OrderDefect | GeneralIssue, rng: Rng): string {
  const s = PAIN_SENTENCES[pain];
  return s ? expand(s, rng) : expand('{Had a question support could not answer quickly.|Finding the right help page was hard.}', rng);
}

export function interviewText(rng: Rng, v: { name: string; since: string; cat1: string; cat2: string; freq: string; pains: readonly string[]; wishes: readonly IdeaKey[] }): string {
  const pains = v.pains.length > 0 ? v.pains.join(' ') : expand('{No real complaints.|Nothing major to report.|Happy with delivery and prices.}', rng);
  const wishes = v.wishes.length > 0 ? v.wishes.map((w) => ideaClause(w, rng)).join('; ') : expand('{nothing specific|more of the same}', rng);
  return tidy(expand(
    `{Customer interview|Research call|Discovery interview} with @name (customer since @since). {Shops mainly for @cat1 and @cat2.|Buys mostly @cat1, sometimes @cat2.|Main interests: @cat1, @cat2.} Orders {about @freq|roughly @freq}. ` +
      `{Pain points|Frustrations|What gets in the way}: @pains {Wishes|Would like|Asked for}: @wishes. {Happy to join the beta panel.|Would join a customer panel.|Open to another call in three months.|Agreed to test the new checkout.}`,
    rng,
    { ...v, pains, wishes },
  ));
}

export function visitText(rng: Rng, v: { company: string; industry: string; employees: string; name: string; cat1: string; freq: string; pains: readonly string[]; wishes: readonly IdeaKey[] }): string {
  const pains = v.pains.length > 0 ? v.pains.join(' ') : expand('{Service has been smooth.|No open issues.}', rng);
  const wishes = v.wishes.length > 0 ? v.wishes.map((w) => ideaClause(w, rng)).join('; ') : 'nothing new';
  return tidy(expand(
    `{Visit at|On-site meeting with|Quarterly visit to} @company (@industry, ~@employees staff). Met @name{| and the office manager| and their finance lead}. ` +
      `They order @cat1 {for the office|for their teams|for clients} about @freq. {Raised|Issues}: @pains {Asked for|Requests}: @wishes. ` +
      `{Next step: send a proposal for volume pricing.|Next step: follow up in a month.|Next step: invite to the business panel.|Next step: share the roadmap.}`,
    rng,
    { ...v, pains, wishes },
  ));
}
