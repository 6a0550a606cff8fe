import { describe, expect, it } from 'vitest'
import { Deque } from '../../src/util/deque.js'

describe('Deque', () => {
  it('is empty at first', () => {
    const d = new Deque<number>()
    expect(d.size).toBe(0)
    expect(d.isEmpty()).toBe(true)
    expect(d.peekFront()).toBeUndefined()
    expect(d.peekBack()).toBeUndefined()
    expect(d.popFront()).toBeUndefined()
    expect(d.popBack()).toBeUndefined()
    expect(d.at(0)).toBeUndefined()
  })

  it('works at both ends', () => {
    const d = new Deque<string>()
    d.pushBack('b')
    d.pushBack('c')
    d.pushFront('a')
    expect(d.toArray()).toEqual(['a', 'b', 'c'])
    expect(d.peekFront()).toBe('a')
    expect(d.peekBack()).toBe('c')
    expect(d.at(1)).toBe('b')
    expect(d.at(3)).toBeUndefined()
    expect(d.at(-1)).toBeUndefined()
    expect(d.popBack()).toBe('c')
    expect(d.popFront()).toBe('a')
    expect(d.size).toBe(1)
    expect([...d]).toEqual(['b'])
  })

  it('keeps order across wrap-around and growth', () => {
    const d = new Deque<number>(4)
    // Move head into the middle of the ring, then force several growths while wrapped.
    for (let i = 0; i < 3; i++) d.pushBack(i)
    d.popFront()
    d.popFront()
    for (let i = 3; i < 40; i++) d.pushBack(i)
    for (let i = -1; i > -10; i--) d.pushFront(i)
    const expected = [-9, -8, -7, -6, -5, -4, -3, -2, -1, ...Array.from({ length: 38 }, (_, i) => i + 2)]
    expect(d.toArray()).toEqual(expected)
    expect(d.size).toBe(expected.length)
    for (let i = 0; i < expected.length; i++) expect(d.at(i)).toBe(expected[i])
    const seen: number[] = []
    d.forEach((v, i) => {
      expect(i).toBe(seen.length)
      seen.push(v)
    })
    expect(seen).toEqual(expected)
  })

  it('matches an array model under random operations', () => {
    let seed = 12345
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x80000000
    }
    const d = new Deque<number>()
    const model: number[] = []
    for (let step = 0; step < 4000; step++) {
      const r = rand()
      if (r < 0.3) {
        d.pushBack(step)
        model.push(step)
      } else if (r < 0.55) {
        d.pushFront(step)
        model.unshift(step)
      } else if (r < 0.8) {
        expect(d.popFront()).toBe(model.shift())
      } else {
        expect(d.popBack()).toBe(model.pop())
      }
      expect(d.size).toBe(model.length)
      expect(d.peekFront()).toBe(model[0])
      expect(d.peekBack()).toBe(model[model.length - 1])
    }
    expect(d.toArray()).toEqual(model)
  })

  it('removeWhere compacts in order and clears freed slots', () => {
    const d = new Deque<{ v: number }>(4)
    d.pushBack({ v: 2 })
    d.pushFront({ v: 1 })
    for (let i = 3; i <= 10; i++) d.pushBack({ v: i })
    const removed = d.removeWhere((x) => x.v % 3 === 0)
    expect(removed.map((x) => x.v)).toEqual([3, 6, 9])
    expect(d.toArray().map((x) => x.v)).toEqual([1, 2, 4, 5, 7, 8, 10])
    d.pushFront({ v: 0 })
    d.pushBack({ v: 11 })
    expect(d.toArray().map((x) => x.v)).toEqual([0, 1, 2, 4, 5, 7, 8, 10, 11])
    const target = d.at(3)!
    expect(d.remove(target)).toBe(true)
    expect(d.remove(target)).toBe(false)
    expect(d.toArray().map((x) => x.v)).toEqual([0, 1, 2, 5, 7, 8, 10, 11])
  })

  it('clear empties and stays usable', () => {
    const d = new Deque<number>()
    for (let i = 0; i < 10; i++) d.pushFront(i)
    d.clear()
    expect(d.size).toBe(0)
    expect(d.peekFront()).toBeUndefined()
    d.pushBack(7)
    expect(d.toArray()).toEqual([7])
  })
})
