-- The stakeholders a secretariat picks from to invite to a review are listed by organisation,
-- then name, a page at a time: walking this index, a page costs about its own rows, however
-- many stakeholders a region has.
CREATE INDEX actors_stakeholders_by_organisation ON actors (organisation, name, id)
    WHERE role = 'stakeholder';
