/**
 * The one way into @peculiar/x509 for this folder: the polyfill import comes first so tsyringe
 * finds Reflect.getMetadata when @peculiar/x509 is evaluated (ES modules run in import order).
 */
import './reflect-metadata.js';

export * from '@peculiar/x509';
