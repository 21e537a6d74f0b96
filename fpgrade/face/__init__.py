"""Face analysis as plain functions over arrays: detection, landmarks, crops, masks,
measurements, overlays. The preprocessor plugins in ``plugins/preprocess`` wrap these."""
