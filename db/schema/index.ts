/** All schemas, for drizzle-kit and for the typed query builder. */
export * from './accounting';
export * from './admin';
export * from './api';
export * from './auth';
export * from './events';
export * from './inventory';
export * from './membership';
export * from './orders';
export * from './payment';
export * from './returns';
export * from './styling';
export * from './warehouse';
export * from './warehouse-integration';
