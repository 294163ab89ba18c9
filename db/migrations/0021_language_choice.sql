-- A person's language is their own choice: until they make one (on their account page or with
-- the language switch of any page), pages follow their browser's languages and mail is in
-- English. The languages stay the six of the UN, by their two-letter codes.
ALTER TABLE actors ALTER COLUMN language DROP NOT NULL, ALTER COLUMN language DROP DEFAULT;
