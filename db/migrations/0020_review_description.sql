-- A review's description, written by its secretariat beside its title: both change after the
-- review is created, and this row is where every page, message and report reads them.
ALTER TABLE reviews ADD COLUMN description text NOT NULL DEFAULT '';
