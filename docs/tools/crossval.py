#!/usr/bin/env python3
"""K-fold cross-validation of posdesk's classifier on locales/phrasings.tsv.

    python3 docs/tools/crossval.py target/debug/posdesk 5 [--show]

The model is retrained per fold (each fold's phrasings left out, through
POSDESK_I18N__LOCALES_DIR); the rules stay as they are. Phrasings carry the
source named by the last '# source: X' comment line above them; accuracy is
reported per source (contract ids), with the confusions under --show."""
import sys, subprocess, tomllib, collections, os, shutil, random, tempfile
binp, K = sys.argv[1], int(sys.argv[2])
show = '--show' in sys.argv
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
base = os.path.join(root, 'locales')
binp = os.path.abspath(binp)
work = tempfile.mkdtemp(prefix='posdesk-crossval-')
faq = tomllib.load(open(base+'/faq.toml','rb'))
rep = {t['id']: t.get('reports_as', t['id']) for t in faq['topic']}
rows=[]; src='orig'
for line in open(base+'/phrasings.tsv', encoding='utf-8'):
    if line.startswith('# source:'): src=line.split(':',1)[1].strip(); continue
    if not line.strip() or line.startswith('#'): continue
    rows.append((src, line.rstrip('\n')))
random.seed(7); idx=list(range(len(rows))); random.shuffle(idx)
fold={i: n % K for n,i in enumerate(idx)}
stats=collections.defaultdict(lambda:[0,0,0,0]); conf=collections.defaultdict(list)
for k in range(K):
    d=os.path.join(work, str(k)); shutil.rmtree(d, ignore_errors=True); shutil.copytree(base, d)
    with open(d+'/phrasings.tsv','w') as f:
        for i,(s,l) in enumerate(rows):
            if fold[i]!=k: f.write(l+'\n')
    test=[rows[i] for i in range(len(rows)) if fold[i]==k]
    texts=[l.split('\t',2)[2] for _,l in test]
    env=dict(os.environ, POSDESK_I18N__LOCALES_DIR=d)
    out=subprocess.run([binp,'classify'],input='\n'.join(texts)+'\n',capture_output=True,text=True,env=env,cwd=work)
    got=out.stdout.splitlines(); assert len(got)==len(test),(out.stderr[:400])
    for (s,l),g in zip(test,got):
        lang,lab,text=l.split('\t',2); lab=rep.get(lab,lab); st=stats[s]
        o = 2 if lab=='unknown' else 0
        st[o+1]+=1
        if g.strip()==lab: st[o]+=1
        else: conf[(lab,g.strip())].append(f'[{s}] {text}')
tot=[0,0,0,0]
for s,st in sorted(stats.items()):
    tot=[a+b for a,b in zip(tot,st)]
    print(f'{s:12} in {st[0]}/{st[1]} = {100*st[0]/max(st[1],1):.1f}%  out {st[2]}/{st[3]} = {100*st[2]/max(st[3],1):.1f}%')
print(f'{"ALL":12} in {tot[0]}/{tot[1]} = {100*tot[0]/max(tot[1],1):.1f}%  out {tot[2]}/{tot[3]} = {100*tot[2]/max(tot[3],1):.1f}%')
if show:
    for (e,g),ts in sorted(conf.items(), key=lambda x:-len(x[1])):
        print(f'  {e} -> {g} ({len(ts)}): ' + ' | '.join(ts))
shutil.rmtree(work, ignore_errors=True)
