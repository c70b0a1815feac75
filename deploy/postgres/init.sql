-- Run once by the postgres image on an empty data folder: Rasa's tracker store gets its own
-- database beside the catalogue's (POSTGRES_DB, "mandatbot").
CREATE DATABASE mandatbot_tracker;
