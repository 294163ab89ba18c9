-- Approval of the report by several parties in turn: accounts of the new role 'approver' (a
-- regional UN Network on Migration's representative, scoped to regions like a secretariat),
-- and the approvers a review names, in order.
ALTER TABLE actors DROP CONSTRAINT actors_role_check;
ALTER TABLE actors ADD CONSTRAINT actors_role_check
    CHECK (role IN ('admin', 'secretariat', 'focal_point', 'stakeholder', 'observer', 'drafter',
                    'approver'));
ALTER TABLE actors ADD CONSTRAINT actors_approver_regions
    CHECK (role <> 'approver' OR cardinality(regions) > 0);

-- The review's approvers in order (position from 1): written with the review's row, and
-- replaced when the secretariat changes the chain before the approval begins.
CREATE TABLE review_approvers (
    review_id text NOT NULL REFERENCES reviews (id),
    position integer NOT NULL CHECK (position BETWEEN 1 AND 10),
    actor_id uuid NOT NULL REFERENCES actors (id),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    PRIMARY KEY (review_id, position),
    UNIQUE (review_id, actor_id)
);
CREATE INDEX review_approvers_by_actor ON review_approvers (actor_id);
