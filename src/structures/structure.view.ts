import type { Structure } from './structures.repository';

export function structureView(s: Structure) {
  return {
    id: s.id,
    fund_id: s.fund_id,
    legal_name: s.legal_name,
    siret: s.siret,
    rna: s.rna,
    legal_form: s.legal_form,
    esus: s.esus,
    naf_code: s.naf_code,
    commune_code: s.commune_code,
    department_code: s.department_code,
    region_code: s.region_code,
    jobs_fte: s.jobs_fte.toNumber(), // a count of jobs, not money: a JSON number
    contact_email: s.contact_email,
    webhook_url: s.webhook_url,
    size_class: s.size_class,
    qpv: s.qpv,
    created_at: s.created_at.toISOString(),
  };
}
