import { formatMoney } from '../domain/money';
import { formatRate } from '../domain/rate';
import type { Product } from './products.repository';

export function productView(p: Product) {
  return {
    id: p.id,
    fund_id: p.fund_id,
    name: p.name,
    kind: p.kind,
    principal_min: formatMoney(p.principal_min),
    principal_max: formatMoney(p.principal_max),
    annual_rate_percent_min: formatRate(p.annual_rate_percent_min),
    annual_rate_percent_max: formatRate(p.annual_rate_percent_max),
    term_periods_min: p.term_periods_min,
    term_periods_max: p.term_periods_max,
    deferral_periods_max: p.deferral_periods_max,
    methods: p.methods,
    periodicities: p.periodicities,
    rounding: p.rounding,
    guarantee_coverage_percent: formatRate(p.guarantee_coverage_percent),
    rating_class: p.rating_class,
    collateral_class: p.collateral_class,
    active: p.active,
    created_at: p.created_at.toISOString(),
  };
}
