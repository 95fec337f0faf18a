/** image-layout's grammar for org.opencontainers.image.ref.name: what the image is tagged, checked by the target's limits. */
export const REF_NAME = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;
