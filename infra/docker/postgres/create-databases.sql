-- One database per service (each owns its schema and migrations).
CREATE DATABASE mpb_auth;
CREATE DATABASE mpb_posts;
CREATE DATABASE mpb_comments;
CREATE DATABASE mpb_attachments;
CREATE DATABASE mpb_metrics;
