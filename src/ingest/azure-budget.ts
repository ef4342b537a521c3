/**
 * Cost Management budget notification in its older schema (`schemaId: AIP Budget Notification`), sent to an
 * action group whose budget does not use the common alert schema. It names the budget and the amounts only:
 * no alert id, no time, no condition (a budget threshold is crossed once per budget period, never resolved).
 */
import type { NormalizedAlert } from '../core/alert.ts';
import type { ParseContext } from './build.ts';
import { Details, syntheticId } from './build.ts';
import { UniqueList } from './ci.ts';
import type { Probe } from './json.ts';
import { field, pick, text } from './json.ts';
import { DEFAULT_SEVERITY } from './severity.ts';

export const BUDGET_SCHEMA_ID = 'AIP Budget Notification';

export function parseBudgetNotification(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const root = p.obj(body, '$', 'a JSON object');
  const schemaId = pick(root, 'schemaId');
  if (text(schemaId)?.toLowerCase() !== BUDGET_SCHEMA_ID.toLowerCase()) p.fail('schemaId', `"${BUDGET_SCHEMA_ID}"`, schemaId);
  p.strong();
  const data = p.obj(field(root, 'data'), 'data');
  const budget = p.str(field(data, 'BudgetName'), 'data.BudgetName');

  const unit = text(pick(data, 'Unit'));
  const amount = (name: string) => {
    const v = text(pick(data, name));
    return v && unit ? `${v} ${unit}` : v;
  };
  const subscription = text(pick(data, 'SubscriptionId'));
  const resourceGroup = text(pick(data, 'ResourceGroup'));
  const details = new Details();
  details.add('Budget', budget);
  details.add('Budget type', pick(data, 'BudgetType'));
  details.add('Budget amount', amount('Budget'));
  details.add('Notification threshold', amount('NotificationThresholdAmount'));
  details.add('Spent', amount('SpendingAmount'));
  details.add('Budget start', pick(data, 'BudgetStartDate'));
  details.add('Subscription', [text(pick(data, 'SubscriptionName')), subscription && `(${subscription})`].filter(Boolean).join(' '));
  details.add('Resource group', resourceGroup);
  details.add('Department', pick(data, 'DepartmentName'));
  details.add('Account', pick(data, 'AccountName'));
  details.add('Enrollment', pick(data, 'EnrollmentNumber'));
  details.add('Budget created by', pick(data, 'BudgetCreator'));

  const targets = new UniqueList();
  if (subscription) targets.add(`/subscriptions/${subscription}${resourceGroup ? `/resourceGroups/${resourceGroup}` : ''}`);
  const spent = amount('SpendingAmount');
  const threshold = amount('NotificationThresholdAmount');
  const description =
    spent && threshold
      ? `Spending for budget ${budget} is ${spent}, over its notification threshold of ${threshold}.`
      : `Budget ${budget} reached its notification threshold.`;
  // Same budget and threshold within one month: the same notification (a redelivery), so the same id.
  const period = ctx.receivedAt.slice(0, 7);
  return [
    {
      family: 'azure-budget-notification',
      alertId: syntheticId('budget', [
        subscription,
        resourceGroup,
        budget,
        text(pick(data, 'NotificationThresholdAmount')),
        text(pick(data, 'BudgetStartDate')),
        period,
      ]),
      rule: budget,
      severity: DEFAULT_SEVERITY,
      signalType: 'Unknown',
      monitorCondition: 'Fired',
      firedAt: ctx.receivedAt,
      targets: targets.items,
      configurationItems: [],
      description,
      labels: {},
      details: details.items,
      raw: body,
    },
  ];
}
