export * from './types';
export * from './dtypes';
export * from './attributes';
export * from './graphIndex';
export * from './tensorData';
export * from './builder';
