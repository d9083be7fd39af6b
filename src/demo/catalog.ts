import { itemAt } from './random.js';

/**
 * The demo shop's catalogue: twelve categories of a general online store (books, music,
 * electronics, home…) and about two hundred products with names and list prices. The
 * catalogue is fixed (it does not depend on the seed) so product ids stay stable.
 */

export interface Category {
  key: string;
  name: string;
  /** Share of the shop's demand; the mean of every customer's Dirichlet preference vector. */
  share: number;
  /** SKU prefix. */
  prefix: string;
  /** Words customers type into search for this category. */
  searches: readonly string[];
}

export interface Product {
  id: string;
  name: string;
  category: string;
  categoryIndex: number;
  price: number;
  /** How much buyers like it, on the review latent scale (0 is ordinary, < −1 is a lemon). */
  quality: number;
  /** Relative popularity inside its category. */
  popularity: number;
}

export const CATEGORIES: readonly Category[] = [
  { key: 'books', name: 'Books', share: 0.17, prefix: 'BK', searches: ['novel', 'cookbook', 'biography', 'history book', 'thriller', 'poetry'] },
  { key: 'ebooks', name: 'E-books & Audiobooks', share: 0.06, prefix: 'EB', searches: ['audiobook', 'ebook', 'kindle', 'podcast'] },
  { key: 'music', name: 'Music', share: 0.1, prefix: 'MU', searches: ['vinyl', 'jazz', 'soundtrack', 'cd box set', 'headphones'] },
  { key: 'movies', name: 'Movies & TV', share: 0.06, prefix: 'MV', searches: ['blu-ray', 'box set', 'documentary', '4k'] },
  { key: 'games', name: 'Video Games', share: 0.08, prefix: 'VG', searches: ['switch game', 'ps5', 'controller', 'rpg'] },
  { key: 'electronics', name: 'Electronics', share: 0.12, prefix: 'EL', searches: ['speaker', 'earbuds', 'charger', 'smart watch', 'camera'] },
  { key: 'computers', name: 'Computers & Accessories', share: 0.08, prefix: 'PC', searches: ['keyboard', 'mouse', 'monitor', 'usb-c hub', 'laptop stand'] },
  { key: 'home', name: 'Home & Kitchen', share: 0.12, prefix: 'HK', searches: ['coffee', 'pan', 'knife', 'blanket', 'lamp', 'kettle'] },
  { key: 'garden', name: 'Garden & Outdoor', share: 0.05, prefix: 'GO', searches: ['planter', 'hose', 'seeds', 'tent', 'bbq'] },
  { key: 'toys', name: 'Toys & Games', share: 0.06, prefix: 'TG', searches: ['board game', 'lego', 'puzzle', 'kids'] },
  { key: 'sports', name: 'Sports & Fitness', share: 0.05, prefix: 'SF', searches: ['yoga mat', 'dumbbells', 'water bottle', 'running'] },
  { key: 'stationery', name: 'Stationery & Office', share: 0.05, prefix: 'ST', searches: ['notebook', 'pen', 'planner', 'desk organiser'] },
];

/** [name, list price, quality] per category, in the order of CATEGORIES. */
const ITEMS: readonly (readonly (readonly [string, number, number?])[])[] = [
  [
    ['The Quiet Orchard (Paperback)', 14.99], ['The Quiet Orchard (Hardcover)', 26.0], ['Salt & Ember: Coastal Cooking', 32.5],
    ['A Short History of Maps', 18.99], ['Night Train to Lisbon Road', 12.99], ['The Cartographer\'s Daughter', 16.99],
    ['Deep Work Habits', 21.0], ['Small Gods of the Kitchen Garden', 24.99], ['Atlas of Forgotten Islands', 39.0],
    ['The Glass Detective', 9.99], ['Letters from the Fjord', 15.5], ['Modern Sourdough', 28.0], ['Birds of the Backyard', 11.99],
    ['The Long Winter Recipes', 22.0], ['Rivers: A Biography', 19.99], ['Code & Craft', 44.99], ['Poems for the Commute', 8.99],
  ],
  [
    ['The Quiet Orchard (E-book)', 7.99], ['Deep Work Habits (Audiobook)', 17.99], ['Night Train to Lisbon Road (E-book)', 5.99],
    ['Rivers: A Biography (Audiobook)', 19.99], ['The Glass Detective (E-book)', 4.99], ['Mindful Mornings (Audiobook)', 12.99],
    ['Start Your Own Podcast (E-book)', 9.99], ['Stories for Long Drives (Audiobook)', 14.99], ['Learn Spanish in 30 Days (Audiobook)', 24.99],
    ['The Cartographer\'s Daughter (E-book)', 8.99], ['Space Opera Box (E-book bundle)', 19.99], ['History of Jazz (Audiobook)', 15.99],
    ['Modern Sourdough (E-book)', 11.99], ['Detective Collection Vol. 2 (E-book)', 6.99],
  ],
  [
    ['Blue Hour Sessions (Vinyl)', 29.99], ['Blue Hour Sessions (CD)', 12.99], ['Northern Lights Orchestra: Live', 16.99],
    ['Kind of Midnight (Vinyl)', 34.99], ['Acoustic Mornings', 9.99], ['Greatest Hits 1978-1994 (2CD)', 18.99],
    ['Film Scores Vol. 3', 14.99], ['Lo-fi Study Beats (Vinyl)', 24.99], ['The Complete Sonatas (5CD Box)', 44.99],
    ['Desert Blues', 11.99], ['Turntable Cleaning Kit', 19.99], ['Studio Over-Ear Headphones', 89.0], ['Record Storage Crate', 34.0],
    ['Bossa Nova Essentials', 8.99], ['Indie Summer Compilation', 13.99],
  ],
  [
    ['The Lighthouse Keeper (Blu-ray)', 19.99], ['Coastline: Series 1-3 (Box Set)', 49.99], ['Planet Deep (4K UHD)', 29.99],
    ['Noir Classics Collection', 39.99], ['The Heist Season 2 (DVD)', 14.99], ['Animated Favourites 5-Film Set', 24.99],
    ['Mountain Rescue (Blu-ray)', 16.99], ['Documentary: The Bee Year', 12.99], ['Sci-Fi Trilogy (4K UHD)', 59.99],
    ['Kitchen Stories (DVD)', 9.99], ['Stand-up Live at the Roxy', 11.99], ['Family Movie Night Bundle', 34.99],
    ['The Long Valley (Blu-ray)', 17.99], ['World War Archives (Box Set)', 44.99],
  ],
  [
    ['Skyforge Chronicles (Switch)', 59.99], ['Skyforge Chronicles (PS5)', 69.99], ['Kart Rally Deluxe', 49.99],
    ['Pixel Farm Story', 29.99], ['Wireless Pro Controller', 64.99, -0.6], ['Dungeon of Echoes', 39.99], ['Racing Legends 24', 69.99],
    ['Puzzle Garden', 19.99], ['Charging Dock for Controllers', 24.99, -1.6], ['Football Manager Season', 54.99],
    ['Retro Arcade Collection', 34.99], ['Gaming Headset G7', 79.99], ['Tactics of the Crown', 44.99], ['Party Games Pack', 39.99],
  ],
  [
    ['Nimbus Bluetooth Speaker', 79.99], ['Nimbus Mini Speaker', 39.99], ['AirDrift Wireless Earbuds', 129.0, -0.4],
    ['AirDrift Earbuds Lite', 59.99, -1.4], ['65W USB-C Charger', 34.99], ['PowerBank 20,000 mAh', 44.99], ['Pulse Smart Watch 2', 199.0],
    ['Action Cam 4K', 249.0], ['E-reader Paperlight 7"', 139.0], ['Noise-Cancelling Headphones QX', 299.0], ['Smart Plug (4-pack)', 39.99],
    ['Instant Film Camera', 89.0], ['Wireless Charging Pad', 24.99], ['Mirrorless Camera Z50 Kit', 899.0], ['Streaming Stick 4K', 49.99],
    ['Home Security Cam', 69.99],
  ],
  [
    ['Mechanical Keyboard K2', 119.0], ['Ergonomic Mouse M5', 49.99], ['27" 4K Monitor', 379.0], ['USB-C Hub 7-in-1', 39.99, -1.2],
    ['Aluminium Laptop Stand', 34.99], ['Webcam HD Pro', 69.99], ['1TB Portable SSD', 109.0], ['Ultrabook 14 (16GB)', 1149.0],
    ['Laptop Sleeve 14"', 24.99], ['Wi-Fi 6 Router', 149.0], ['Desk Mat XL', 19.99], ['Noise-Cancelling USB Headset', 89.0],
    ['Tablet 11" (128GB)', 429.0], ['Printer Ink Multipack', 54.99], ['Monitor Arm', 79.0],
  ],
  [
    ['AeroBrew Pour-Over Set', 42.0], ['AeroBrew Milk Frother', 29.99, -1.8], ['Cast Iron Skillet 26cm', 39.0], ['Chef\'s Knife 20cm', 64.0],
    ['Linen Throw Blanket', 49.0], ['Ceramic Mug Set (4)', 32.0], ['Electric Kettle Glass', 44.99], ['Stand Mixer Classic', 329.0],
    ['Scented Candle Trio', 24.0], ['Bamboo Cutting Board', 22.0], ['Air Fryer 5L', 119.0], ['Desk Lamp Arc', 59.0],
    ['Cotton Bath Towels (Set of 6)', 54.0], ['Espresso Machine Barista', 449.0], ['Storage Jars (Set of 5)', 27.99], ['Nonstick Pan Set', 89.0],
    ['Herb Grinder', 14.99],
  ],
  [
    ['Self-Watering Planter', 29.99], ['Expandable Garden Hose 30m', 39.99, -1.5], ['Heirloom Tomato Seeds', 4.99], ['Pruning Shears Pro', 27.0],
    ['Two-Person Dome Tent', 119.0], ['Charcoal Kettle BBQ', 149.0], ['Solar Path Lights (8)', 34.99], ['Bird Feeder Station', 44.0],
    ['Camping Lantern', 24.99], ['Raised Garden Bed', 89.0], ['Outdoor Cushion Set', 64.0], ['Compost Bin 300L', 59.0],
    ['Hammock with Stand', 99.0], ['Wildflower Seed Mix', 6.49],
  ],
  [
    ['Harbour Town Board Game', 44.99], ['Brick Builder Space Station', 79.99], ['1000-Piece Puzzle: Old Maps', 19.99], ['Wooden Train Set', 54.0],
    ['Card Game: Dragons & Dice', 14.99], ['Plush Fox', 16.99], ['Science Kit: Crystals', 24.99], ['Remote Control Car', 49.99, -1.0],
    ['Family Quiz Night', 24.99], ['Art Easel for Kids', 39.99], ['Strategy Game: Empires', 59.99], ['Marble Run Deluxe', 34.99],
    ['Baby Activity Gym', 64.99], ['Magnetic Tiles (100)', 69.99],
  ],
  [
    ['Yoga Mat Pro 6mm', 39.99], ['Adjustable Dumbbells (pair)', 149.0], ['Insulated Water Bottle 750ml', 24.99], ['Running Belt', 17.99],
    ['Resistance Bands Set', 22.99], ['Foam Roller', 19.99], ['Fitness Tracker Band', 59.99, -0.8], ['Cycling Gloves', 21.99],
    ['Jump Rope Speed', 12.99], ['Trail Running Socks (3)', 18.0], ['Kettlebell 12kg', 44.0], ['Tennis Racket Club', 89.0],
    ['Hiking Daypack 24L', 69.0],
  ],
  [
    ['Dot Grid Notebook A5', 14.0], ['Fountain Pen Classic', 34.0], ['Weekly Planner 2026', 19.0], ['Gel Pens (12)', 9.99],
    ['Desk Organiser Oak', 39.0], ['Sticky Notes Mega Pack', 7.49], ['Watercolour Set 24', 27.99], ['Document Folders (10)', 11.99],
    ['Label Maker', 44.99], ['Ergonomic Office Chair Cushion', 36.0], ['Whiteboard 90x60', 49.0], ['Greeting Cards Assorted (20)', 15.99],
    ['Paper Shredder Compact', 59.0], ['Calligraphy Starter Kit', 24.0],
  ],
];

function buildProducts(): Product[] {
  const out: Product[] = [];
  CATEGORIES.forEach((c, ci) => {
    const items = itemAt(ITEMS, ci);
    items.forEach(([name, price, quality], k) => {
      out.push({
        id: `${c.prefix}-${1001 + k}`,
        name,
        category: c.name,
        categoryIndex: ci,
        price,
        // Products are good by default; the few lemons are named above.
        quality: quality ?? 0.25 * Math.cos(k * 2.3 + ci),
        // Zipf-like popularity inside the category, first items most popular.
        popularity: 1 / Math.pow(k + 1.5, 0.8),
      });
    });
  });
  return out;
}

export const PRODUCTS: readonly Product[] = buildProducts();

/** Products of each category, in catalogue order, indexed like CATEGORIES. */
export const PRODUCTS_BY_CATEGORY: readonly (readonly Product[])[] = CATEGORIES.map((_, ci) => PRODUCTS.filter((p) => p.categoryIndex === ci));

/** Cheapest price in each category (used when an order's budget is small). */
export const MIN_PRICE_BY_CATEGORY: readonly number[] = PRODUCTS_BY_CATEGORY.map((ps) => Math.min(...ps.map((p) => p.price)));

/** The category a product belongs to. */
export function categoryOf(product: Product): Category {
  return itemAt(CATEGORIES, product.categoryIndex);
}

/** The index in CATEGORIES of the category with this key; throws for an unknown key. */
export function categoryIndex(key: string): number {
  const i = CATEGORIES.findIndex((c) => c.key === key);
  if (i < 0) throw new Error(`unknown category "${key}"`);
  return i;
}
