#!/bin/sh
# Run by the postgres image once, when its data volume is new: a role and a database for
# reviewflow, and a role for Temporal, which creates its own two databases
# (`temporal-schema` in compose.yaml). Each owns only what is its own; neither is a superuser.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v reviewflow_password="$REVIEWFLOW_DB_PASSWORD" \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE reviewflow LOGIN PASSWORD :'reviewflow_password';
CREATE DATABASE reviewflow OWNER reviewflow;
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
