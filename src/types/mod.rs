pub mod rc;
