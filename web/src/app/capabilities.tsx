import type { ReactElement } from 'react';
import type { IconName } from '../components/Icon.js';
import { OverviewPage } from '../pages/OverviewPage.js';
import { CustomersPage } from '../pages/CustomersPage.js';
import { CustomerPage } from '../pages/customer/CustomerPage.js';
import { ValuePage } from '../pages/ValuePage.js';
import { ThemesPage } from '../pages/listening/ThemesPage.js';
import { ThemePage } from '../pages/listening/ThemePage.js';
import { ReviewPage } from '../pages/listening/ReviewPage.js';
import { DefectsPage } from '../pages/listening/DefectsPage.js';
import { SearchPage } from '../pages/SearchPage.js';
import { StagesPage } from '../pages/relationships/StagesPage.js';
import { PanelsPage } from '../pages/relationships/PanelsPage.js';
import { ActionsPage } from '../pages/relationships/ActionsPage.js';
import { PanelPage } from '../pages/relationships/PanelPage.js';
import { VisitsPage } from '../pages/relationships/VisitsPage.js';
import { CoveragePage } from '../pages/relationships/CoveragePage.js';
import { AccountsPage } from '../pages/relationships/AccountsPage.js';
import { AccountPage } from '../pages/relationships/AccountPage.js';
import { ImportPage } from '../pages/ImportPage.js';

/**
 * The capabilities of the dashboard: each one is a navigation entry plus the routes it owns.
 * This list is the one place a new capability plugs in: add an entry and the navigation and
 * the router pick it up.
 */
export interface Capability {
  id: string;
  label: string;
  icon: IconName;
  /** Where the navigation entry points. */
  path: string;
  /** Highlight the entry only on exactly `path` (for "/"). */
  end?: boolean;
  /** One line shown as the entry's tooltip. */
  description: string;
  routes: { path: string; element: ReactElement }[];
}

export const CAPABILITIES: readonly Capability[] = [
  {
    id: 'overview',
    label: 'Overview',
    icon: 'overview',
    path: '/',
    end: true,
    description: 'Totals and how interactions develop month by month',
    routes: [{ path: '/', element: <OverviewPage /> }],
  },
  {
    id: 'customers',
    label: 'Customers',
    icon: 'customers',
    path: '/customers',
    description: 'Every identified customer, their profile and their history',
    routes: [
      { path: '/customers', element: <CustomersPage /> },
      { path: '/customers/:userId', element: <CustomerPage /> },
    ],
  },
  {
    id: 'value',
    label: 'Value',
    icon: 'value',
    path: '/value',
    description: 'What customers are worth, who is slipping away, and how well the forecasts held',
    routes: [{ path: '/value', element: <ValuePage /> }],
  },
  {
    id: 'relationships',
    label: 'Relationships',
    icon: 'mutual',
    path: '/relationships',
    description: 'The LOVE ladder: where each relationship stands, which way it is moving, and the rules that say so; co-creation panels of reference customers; visits, calls and meetings; whether the most valuable customers are heard',
    routes: [
      { path: '/relationships', element: <StagesPage /> },
      { path: '/relationships/actions', element: <ActionsPage /> },
      { path: '/relationships/accounts', element: <AccountsPage /> },
      { path: '/relationships/accounts/:groupId', element: <AccountPage /> },
      { path: '/relationships/panels', element: <PanelsPage /> },
      { path: '/relationships/panels/:id', element: <PanelPage /> },
      { path: '/relationships/visits', element: <VisitsPage /> },
      { path: '/relationships/coverage', element: <CoveragePage /> },
    ],
  },
  {
    id: 'listening',
    label: 'Listening',
    icon: 'listening',
    path: '/listening',
    description: 'Feedback themes, tag review, and the defect ledger tied to churn',
    routes: [
      { path: '/listening', element: <ThemesPage /> },
      { path: '/listening/themes/:id', element: <ThemePage /> },
      { path: '/listening/review', element: <ReviewPage /> },
      { path: '/listening/defects', element: <DefectsPage /> },
    ],
  },
  {
    id: 'search',
    label: 'Search',
    icon: 'search',
    path: '/search',
    description: 'Everything customers said: feedback, notes, ideas, their searches and chats',
    routes: [{ path: '/search', element: <SearchPage /> }],
  },
  {
    id: 'import',
    label: 'Import',
    icon: 'upload',
    path: '/import',
    description: 'Bring in customers, orders, events or feedback from a CSV or NDJSON export, checking how its columns map first',
    routes: [{ path: '/import', element: <ImportPage /> }],
  },
];
