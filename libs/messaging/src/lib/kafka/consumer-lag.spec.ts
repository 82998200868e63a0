import { partitionLag } from './consumer-lag';

describe('partitionLag', () => {
  it('is the log end minus the committed offset', () => {
    expect(partitionLag('40', '0', '100')).toBe(60n);
    expect(partitionLag('100', '0', '100')).toBe(0n);
  });

  it('counts from the log start when the group committed nothing or its commit fell out of retention', () => {
    expect(partitionLag(null, '0', '7')).toBe(7n);
    expect(partitionLag(null, '30', '70')).toBe(40n);
    expect(partitionLag('10', '30', '70')).toBe(40n);
  });

  it('is never negative when a commit races the watermark read, and stays exact beyond 2^53', () => {
    expect(partitionLag('105', '0', '100')).toBe(0n);
    expect(partitionLag('9007199254740993', '0', '9007199254741000')).toBe(7n);
  });
});
