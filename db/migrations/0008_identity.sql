-- Identity: focal points scoped by region, organisations as entities, account deactivation
-- and the audit trail of account and token operations.

-- A focal point acts for its country in the reviews of its regions only. Existing focal points
-- get: if a secretariat made them, those of its regions that count the State; otherwise the
-- regions whose regional membership lists the State (both, for a State of two commissions);
-- any still without, every region that lists the State. The lists are this release's
-- reference data (reviewflow/data/regions.json).
CREATE TEMP TABLE unassigned_focal_points ON COMMIT DROP AS
SELECT id FROM actors WHERE role = 'focal_point' AND cardinality(regions) = 0;
UPDATE actors a SET regions = a.regions || 'ECE'::text FROM actors c
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND c.id = a.created_by
  AND c.role = 'secretariat' AND 'ECE' = ANY (c.regions)
  AND a.country = ANY ('{ALB,AND,ARM,AUT,AZE,BEL,BGR,BIH,BLR,CAN,CHE,CYP,CZE,DEU,DNK,ESP,EST,FIN,FRA,GBR,GEO,GRC,HRV,HUN,IRL,ISL,ISR,ITA,KAZ,KGZ,LIE,LTU,LUX,LVA,MCO,MDA,MKD,MLT,MNE,NLD,NOR,POL,PRT,ROU,RUS,SMR,SRB,SVK,SVN,SWE,TJK,TKM,TUR,UKR,USA,UZB}');
UPDATE actors a SET regions = a.regions || 'ECA'::text FROM actors c
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND c.id = a.created_by
  AND c.role = 'secretariat' AND 'ECA' = ANY (c.regions)
  AND a.country = ANY ('{AGO,BDI,BEN,BFA,BWA,CAF,CIV,CMR,COD,COG,COM,CPV,DJI,DZA,EGY,ERI,ETH,GAB,GHA,GIN,GMB,GNB,GNQ,KEN,LBR,LBY,LSO,MAR,MDG,MLI,MOZ,MRT,MUS,MWI,NAM,NER,NGA,RWA,SDN,SEN,SLE,SOM,SSD,STP,SWZ,SYC,TCD,TGO,TUN,TZA,UGA,ZAF,ZMB,ZWE}');
UPDATE actors a SET regions = a.regions || 'ECLAC'::text FROM actors c
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND c.id = a.created_by
  AND c.role = 'secretariat' AND 'ECLAC' = ANY (c.regions)
  AND a.country = ANY ('{ABW,AIA,ARG,ATG,BHS,BLZ,BMU,BOL,BRA,BRB,CAN,CHL,COL,CRI,CUB,CUW,CYM,DEU,DMA,DOM,ECU,ESP,FRA,GBR,GLP,GRD,GTM,GUF,GUY,HND,HTI,ITA,JAM,JPN,KNA,KOR,LCA,MEX,MSR,MTQ,NIC,NLD,NOR,PAN,PER,PRI,PRT,PRY,SLV,SUR,SXM,TCA,TTO,TUR,URY,USA,VCT,VEN,VGB,VIR}');
UPDATE actors a SET regions = a.regions || 'ESCAP'::text FROM actors c
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND c.id = a.created_by
  AND c.role = 'secretariat' AND 'ESCAP' = ANY (c.regions)
  AND a.country = ANY ('{AFG,ARM,ASM,AUS,AZE,BGD,BRN,BTN,CHN,COK,FJI,FRA,FSM,GBR,GEO,GUM,HKG,IDN,IND,IRN,JPN,KAZ,KGZ,KHM,KIR,KOR,LAO,LKA,MAC,MDV,MHL,MMR,MNG,MNP,MYS,NCL,NIU,NLD,NPL,NRU,NZL,PAK,PHL,PLW,PNG,PRK,PYF,RUS,SGP,SLB,THA,TJK,TKM,TLS,TON,TUR,TUV,USA,UZB,VNM,VUT,WSM}');
UPDATE actors a SET regions = a.regions || 'ESCWA'::text FROM actors c
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND c.id = a.created_by
  AND c.role = 'secretariat' AND 'ESCWA' = ANY (c.regions)
  AND a.country = ANY ('{ARE,BHR,DZA,EGY,IRQ,JOR,KWT,LBN,LBY,MAR,MRT,OMN,PSE,QAT,SAU,SDN,SOM,SYR,TUN,YEM}');
UPDATE actors a SET regions = a.regions || 'ECE'::text
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND NOT EXISTS (
      SELECT 1 FROM actors c WHERE c.id = a.created_by AND c.role = 'secretariat')
  AND a.country = ANY ('{ALB,AND,ARM,AUT,AZE,BEL,BGR,BIH,BLR,CAN,CHE,CYP,CZE,DEU,DNK,ESP,EST,FIN,FRA,GBR,GEO,GRC,HRV,HUN,IRL,ISL,ISR,ITA,KAZ,KGZ,LIE,LTU,LUX,LVA,MCO,MDA,MKD,MLT,MNE,NLD,NOR,POL,PRT,ROU,RUS,SMR,SRB,SVK,SVN,SWE,TJK,TKM,TUR,UKR,USA,UZB}');
UPDATE actors a SET regions = a.regions || 'ECA'::text
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND NOT EXISTS (
      SELECT 1 FROM actors c WHERE c.id = a.created_by AND c.role = 'secretariat')
  AND a.country = ANY ('{AGO,BDI,BEN,BFA,BWA,CAF,CIV,CMR,COD,COG,COM,CPV,DJI,DZA,EGY,ERI,ETH,GAB,GHA,GIN,GMB,GNB,GNQ,KEN,LBR,LBY,LSO,MAR,MDG,MLI,MOZ,MRT,MUS,MWI,NAM,NER,NGA,RWA,SDN,SEN,SLE,SOM,SSD,STP,SWZ,SYC,TCD,TGO,TUN,TZA,UGA,ZAF,ZMB,ZWE}');
UPDATE actors a SET regions = a.regions || 'ECLAC'::text
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND NOT EXISTS (
      SELECT 1 FROM actors c WHERE c.id = a.created_by AND c.role = 'secretariat')
  AND a.country = ANY ('{ARG,ATG,BHS,BLZ,BOL,BRA,BRB,CHL,COL,CRI,CUB,DMA,DOM,ECU,GRD,GTM,GUY,HND,HTI,JAM,KNA,LCA,MEX,NIC,PAN,PER,PRY,SLV,SUR,TTO,URY,VCT,VEN}');
UPDATE actors a SET regions = a.regions || 'ESCAP'::text
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND NOT EXISTS (
      SELECT 1 FROM actors c WHERE c.id = a.created_by AND c.role = 'secretariat')
  AND a.country = ANY ('{AFG,ARM,AUS,AZE,BGD,BRN,BTN,CHN,FJI,FSM,GEO,IDN,IND,IRN,JPN,KAZ,KGZ,KHM,KIR,KOR,LAO,LKA,MDV,MHL,MMR,MNG,MYS,NPL,NRU,NZL,PAK,PHL,PLW,PNG,PRK,RUS,SGP,SLB,THA,TJK,TKM,TLS,TON,TUR,TUV,UZB,VNM,VUT,WSM}');
UPDATE actors a SET regions = a.regions || 'ESCWA'::text
WHERE a.id IN (SELECT id FROM unassigned_focal_points) AND NOT EXISTS (
      SELECT 1 FROM actors c WHERE c.id = a.created_by AND c.role = 'secretariat')
  AND a.country = ANY ('{ARE,BHR,DZA,EGY,IRQ,JOR,KWT,LBN,LBY,MAR,MRT,OMN,PSE,QAT,SAU,SDN,SOM,SYR,TUN,YEM}');
CREATE TEMP TABLE stranded_focal_points ON COMMIT DROP AS
SELECT id FROM actors WHERE role = 'focal_point' AND cardinality(regions) = 0;
UPDATE actors SET regions = regions || 'ECE'::text
WHERE id IN (SELECT id FROM stranded_focal_points) AND country = ANY ('{ALB,AND,ARM,AUT,AZE,BEL,BGR,BIH,BLR,CAN,CHE,CYP,CZE,DEU,DNK,ESP,EST,FIN,FRA,GBR,GEO,GRC,HRV,HUN,IRL,ISL,ISR,ITA,KAZ,KGZ,LIE,LTU,LUX,LVA,MCO,MDA,MKD,MLT,MNE,NLD,NOR,POL,PRT,ROU,RUS,SMR,SRB,SVK,SVN,SWE,TJK,TKM,TUR,UKR,USA,UZB}');
UPDATE actors SET regions = regions || 'ECA'::text
WHERE id IN (SELECT id FROM stranded_focal_points) AND country = ANY ('{AGO,BDI,BEN,BFA,BWA,CAF,CIV,CMR,COD,COG,COM,CPV,DJI,DZA,EGY,ERI,ETH,GAB,GHA,GIN,GMB,GNB,GNQ,KEN,LBR,LBY,LSO,MAR,MDG,MLI,MOZ,MRT,MUS,MWI,NAM,NER,NGA,RWA,SDN,SEN,SLE,SOM,SSD,STP,SWZ,SYC,TCD,TGO,TUN,TZA,UGA,ZAF,ZMB,ZWE}');
UPDATE actors SET regions = regions || 'ECLAC'::text
WHERE id IN (SELECT id FROM stranded_focal_points) AND country = ANY ('{ABW,AIA,ARG,ATG,BHS,BLZ,BMU,BOL,BRA,BRB,CAN,CHL,COL,CRI,CUB,CUW,CYM,DEU,DMA,DOM,ECU,ESP,FRA,GBR,GLP,GRD,GTM,GUF,GUY,HND,HTI,ITA,JAM,JPN,KNA,KOR,LCA,MEX,MSR,MTQ,NIC,NLD,NOR,PAN,PER,PRI,PRT,PRY,SLV,SUR,SXM,TCA,TTO,TUR,URY,USA,VCT,VEN,VGB,VIR}');
UPDATE actors SET regions = regions || 'ESCAP'::text
WHERE id IN (SELECT id FROM stranded_focal_points) AND country = ANY ('{AFG,ARM,ASM,AUS,AZE,BGD,BRN,BTN,CHN,COK,FJI,FRA,FSM,GBR,GEO,GUM,HKG,IDN,IND,IRN,JPN,KAZ,KGZ,KHM,KIR,KOR,LAO,LKA,MAC,MDV,MHL,MMR,MNG,MNP,MYS,NCL,NIU,NLD,NPL,NRU,NZL,PAK,PHL,PLW,PNG,PRK,PYF,RUS,SGP,SLB,THA,TJK,TKM,TLS,TON,TUR,TUV,USA,UZB,VNM,VUT,WSM}');
UPDATE actors SET regions = regions || 'ESCWA'::text
WHERE id IN (SELECT id FROM stranded_focal_points) AND country = ANY ('{ARE,BHR,DZA,EGY,IRQ,JOR,KWT,LBN,LBY,MAR,MRT,OMN,PSE,QAT,SAU,SDN,SOM,SYR,TUN,YEM}');
ALTER TABLE actors ADD CHECK (role <> 'focal_point' OR cardinality(regions) > 0);

-- A stakeholder's organisation is an entity: two organisations of one name stay two. The name
-- and category are copied onto each of its accounts (`actors.organisation`,
-- `actors.stakeholder_category`), which only the organisation's creation sets.
CREATE TABLE organisations (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    category text NOT NULL,
    -- The regions of the secretariat that created it; another secretariat cannot add to it.
    regions text[] NOT NULL DEFAULT '{}',
    created_by uuid REFERENCES actors (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE actors
    ADD COLUMN organisation_id uuid REFERENCES organisations (id),
    -- A deactivated account cannot sign in, is sent no mail, and its webhooks stop firing.
    ADD COLUMN disabled_at timestamptz;

-- Existing stakeholders: one organisation per (name, category, country, regions, creator), so
-- accounts that could already hand tasks to each other stay together and nothing made by two
-- different secretariats (or for two countries) is merged.
CREATE TEMP TABLE organisation_keys ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, organisation, stakeholder_category, country, regions, created_by
FROM actors WHERE role = 'stakeholder'
GROUP BY organisation, stakeholder_category, country, regions, created_by;

INSERT INTO organisations (id, name, category, regions, created_by)
SELECT id, organisation, stakeholder_category, regions, created_by FROM organisation_keys;

UPDATE actors a SET organisation_id = k.id FROM organisation_keys k
WHERE a.role = 'stakeholder' AND a.organisation = k.organisation
  AND a.stakeholder_category = k.stakeholder_category AND a.regions = k.regions
  AND a.country IS NOT DISTINCT FROM k.country AND a.created_by IS NOT DISTINCT FROM k.created_by;

ALTER TABLE actors ADD CHECK (role <> 'stakeholder' OR organisation_id IS NOT NULL);
CREATE INDEX actors_organisation ON actors (organisation_id) WHERE organisation_id IS NOT NULL;

-- A stakeholder input's subject becomes its organisation's id: the organisation of the account
-- that sent its first version.
UPDATE submissions s SET subject = f.organisation_id::text
FROM (SELECT DISTINCT ON (v.submission_id) v.submission_id, a.organisation_id
      FROM submission_versions v JOIN actors a ON a.id = v.submitted_by
      ORDER BY v.submission_id, v.received_at, v.request_id) f
WHERE s.id = f.submission_id AND s.kind = 'stakeholder_input';

-- Who is consulted: as before, with focal points scoped to the review's region, deactivated
-- accounts left out, and the stakeholder's organisation id.
CREATE OR REPLACE VIEW review_consultees AS
SELECT r.id AS review_id, a.id AS actor_id, a.role, a.organisation, a.stakeholder_category, a.country,
       a.organisation_id
FROM reviews r
JOIN actors a ON a.disabled_at IS NULL AND (
    (a.role = 'stakeholder' AND CASE WHEN r.stakeholders IS NULL THEN r.region = ANY (a.regions)
                                     ELSE a.id = ANY (r.stakeholders) END)
    OR (r.consult_focal_points AND a.role = 'focal_point' AND a.country = ANY (r.member_states)
        AND r.region = ANY (a.regions)));

-- Every operation on an account or its token: who did what to whom, and when. Never a token.
CREATE TABLE account_events (
    seq bigserial PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES actors (id),
    type text NOT NULL,
    -- Who did it; NULL for the operator at the command line.
    actor_id uuid REFERENCES actors (id),
    at timestamptz NOT NULL DEFAULT now(),
    data jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX account_events_by_account ON account_events (account_id, seq);
