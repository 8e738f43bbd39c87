urlmap={}
def m(key,*ids):
    for i in ids: urlmap[(key,i)]=i
pairs=[
 ('NCT01441505','ketdoseregistry2011'),('NCT01558063','ketmrsdosenct2012'),('PMC10812090','erketamine2023'),
 ('pubcompare.ai/protocol/a8xg1YwB4C3bMWOesAlU','nimhcrossmdd2019'),('NCT03097133','ionescu2021'),('ignite-sd.com/clinical/show_json/122744','ionescu2021'),('PMC8289440','fu2020'),('PMC8289440','ionescu2021'),
 ('NCT02418585','popova2019'),('NCT02417064','fedgchin2019'),('NCT02422186','ochsross2020'),('pub1422560','ochsross2020'),('PMC8921149','ochsross2020'),('PMC8921149','fedgchin2019'),('PMC8921149','popova2019'),
 ('NCT02497287','sustaintwo2020'),('NCT04599855','janik2025'),('med.uth.edu/psychiatry/esketamine','janik2025'),
 ('2013-004005-11','daly2018'),('PMC5838571','daly2018'),('jamapsychiatry','daly2018'),('daly-2017','daly2018'),('nutritiontheory.org','daly2018'),('ihr.stoynev.us','daly2018'),
 ('PMC8547110','takahashi2021'),('s12888-021-03538-y','takahashi2021'),
 ('NCT01920555','fava2020'),('PMC6447473','fava2020'),('s41380-018-0256-5','fava2020'),('clincosm.com/trial/treatment-resistant','fava2020'),('moreblossom.com/trials/double-blind-placebo','fava2020'),('viridian','fava2020'),('medicine.yale.edu','fava2020'),('PMC5418088','fava2020'),('PMC5418088','singh2016a'),
 ('NCT01944293','grunebaum2017'),('bdi.12487','grunebaum2017'),('ketamine-versus-midazolam-in-bipolar','grunebaum2017'),('ketamine-for-suicidality-in-bipolar','grunebaum2017'),('CD011611-tbl-0002','grunebaum2017'),('PMC8299822','grunebaum2017'),('34623633','grunebaum2017'),
 ('NCT01700829','grunebaum2018'),('PMC6746183','grunebaum2018'),('CD011612-tblf-0022','grunebaum2018'),('PMC8024485','grunebaum2018'),('PMC9763119','grunebaum2018'),
 ('NCT01507181','murrough2015'),('murrough2015','murrough2015'),('PMC5794524','murrough2015'),
 ('s41398-020-00897-0','shiroma2020'),('repeated-vs-single-subanesthetic','shiroma2020'),('studyfinder.umn.edu','shiroma2020'),('CD011612-tblf-0054','shiroma2020'),
 ('CD011612-tblf-0059','su2017'),('npp201794','su2017'),('PMC8024485','su2017'),('PMC7704936','su2017'),
 ('407082910','su2023'),('dissem.in/p/133932695','su2023'),('a-randomized-double-blind-midazolam-controlled-trial-of-low-dose','su2023'),
 ('PMC10769130','lii2023'),('ijiapp.com','talati2019'),('PMC10810879','unidentified2024'),('NCT05026203','thaiketmdz2021'),
 ('PMC10727911','loo2023'),('ijpbs-137879','kheirabadi2023'),('Oral-Ketamine-in-Treatment-Resistant','alshirawi2017'),('76898B0B3980372F9EE79043F55A08FD','domany2019'),
 ('PMC6884875','smithapeldoorn2022'),('s12888-024-05716-0','iranbmc2024'),('ketamine-in-treatment-resistant-major-depression-trd','magdeburgtrd2010'),
 ('cord-1030899','abdallah2022'),('PMC4065787','nimhpooledsideeffects0000'),('effectiveness-of-ketamine-in-depressed-patients','gosek2014'),
 ('abcdocz.com/doc/146903','haile2013'),('relationship-of-ketamines-antidepressant','sos2013'),('PMC5794524','sos2013'),('PMC10430179','sos2013'),('PMC7704936','sos2013'),
 ('2279.html','chen2020'),('aulast%3DChen','chen2020'),('e-tjp.org','chen2020'),('tpsy.tpsy_19_20','chen2020'),
 ('persistent-antidepressant-effect-of-low-dose','chen2018'),('daneshyari.com/en/article/5721780','chen2018'),('892502502','chen2018'),
 ('prefrontal-cortex-and-amygdala-in-treatm','chenhbm0000'),('right-dorsolateral-prefrontal-cortex','taipeidlpfc2023'),('PMC7393172','sahib2020'),('s41398-020-00947-7','sahib2020'),
 ('docslib.org/doc/4347699','lara2013'),('PMC9763119','deakin2016'),('PMC9763119','federptsdrep0000'),('PMC9763119','feder2014'),('PMC9763119','murrough2013'),
 ('PMC4714563','zarate2006'),('PMC4714563','berman2000'),('PMC4714563','lapidus2014'),('PMC4714563','murrough2013'),('PMC4714563','valentine2011'),('PMC4714563','diazgranados2010'),('PMC4714563','zarate2012'),('PMC4714563','rodriguez2013'),
 ('PMC5794524','berman2000'),('PMC5794524','valentine2011'),('PMC5794524','murrough2013'),('PMC5794524','feder2014'),('PMC5794524','ballard2014'),('PMC5794524','hu2016'),
 ('PMC7704936','berman2000'),('PMC7704936','zarate2006'),('PMC7704936','diazgranados2010'),('PMC7704936','zarate2012'),('PMC7704936','murrough2013'),('PMC7704936','lapidus2014'),('PMC7704936','hu2016'),('PMC7704936','singh2016a'),('PMC7704936','singh2016b'),('PMC7704936','li2016'),('PMC7704936','grunebaum2017'),
 ('PMC8299822','diazgranados2010'),('PMC8299822','zarate2012'),('PMC8299822','rybakowski2013'),('PMC8299822','permodaosip2014'),('PMC8299822','zheng2020'),
 ('CD011611-tblf-0005','diazgranados2010'),('CD011611-tblf-0011','zarate2012'),('CD011612-tblf-0100','grunebaum2017'),('CD011612-tblf-0088','ionescu2019'),('e41013','deepp2023'),
 ('PMC4851268','lai2014'),('PMC4851268','sos2013'),('docslib.org/doc/2945969','lai2014'),('docslib.org/doc/2945969','sos2013'),
 ('vdocuments.pub/ni-hms-572203','murrough2013'),('betterucare.com','murrough2013'),('wayback.clockss.org','murrough2013'),('PMC4851268','murrough2013'),
 ('particle.news','jelovac2025'),('Ketamine-for-the-acute-treatment-of-severe-suicidal','abbar2022'),('PMC5116384','sos2013'),('PMC5116384','lai2014'),('journals.cambridge.org/action/displayRelatedArticles','sos2013'),
 ('PMC8024485','george2017'),('PMC8024485','lapidus2014'),('PMC8024485','murrough2013'),('PMC8024485','fedgchin2019'),('PMC8024485','daly2018'),
 ('PMC3952483','murrough2013'),('PMC3952483','zarate2006'),('PMC3952483','zarate2012'),('PMC3952483','berman2000'),('PMC3952483','diazgranados2010'),('PMC3952483','valentine2011'),
 ('clinicaltrialexchange.com/clinical-trials/A-Study-of-Ketamine','ketdoseregistry2011'),
]
for k,v in pairs: urlmap[(k,v)]=v
# flatten to key->id pairs usable by build3 (keys may repeat)
class KV(dict):
    def items(self): return [(k[0],v) for k,v in super().items()]
urlmap=KV(urlmap)
