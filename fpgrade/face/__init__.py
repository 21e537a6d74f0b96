"""Face analysis as plain functions over arrays: detection, landmarks, alignment, crops, masks,
measurements, overlays. The preprocessor plugins in ``plugins/preprocess`` wrap these."""
