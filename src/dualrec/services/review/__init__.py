"""QC operations (质检运营): sampling, the review workbench's use cases, appeals and accuracy statistics."""
