/**
 * A retailer's invoice export in the UCI Online Retail shape, for the import tests of the CLI
 * and the API.
 */
// The UCI Online Retail export's shape: one row per line, month-first dates (12/13/2010 decides),
// a cancellation invoice (C…, negative quantity), an invoice with a returned line, a bad price,
// and a line without a customer.
export const RETAIL = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom
536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850,United Kingdom
536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/1/2010 8:34,1.69,13047,United Kingdom
536367,22745,POPPY'S PLAYHOUSE BEDROOM,6,12/1/2010 8:34,2.10,13047,United Kingdom
C536379,22633,HAND WARMER UNION JACK,-2,12/1/2010 9:41,1.85,17850,United Kingdom
536380,22961,JAM MAKING SET PRINTED,24,12/2/2010 9:41,1.45,13047,United Kingdom
536381,22139,RETROSPOT TEA SET CERAMIC 11 PC,2,12/13/2010 9:45,4.95,13047,France
536381,22961,JAM MAKING SET PRINTED,-4,12/13/2010 9:45,1.45,13047,France
536382,10002,INFLATABLE POLITICAL GLOBE,12,12/13/2010 10:01,abc,12583,France
536383,10125,MINI FUNKY DESIGN TAPES,4,12/13/2010 10:05,0.85,,United Kingdom
536384,22728,ALARM CLOCK BAKELIKE PINK,24,12/14/2010 10:30,3.75,12583,France
`;

/** The same rows with their dates as an undecidable column: every day and month 12 or under. */
export const UNDECIDABLE = RETAIL.replace(/12\/13\/2010/g, '12/3/2010').replace(/12\/14\/2010/g, '12/4/2010');
